// The side-view replay of one rep: moves the stick figure that the server drew
// through the rep's frames (joints computed on the server from the stored series).
// Without this script the figure shows the deepest point of the rep.
(function () {
  "use strict";
  var svg = document.getElementById("replay");
  var source = document.getElementById("replay-data");
  if (!svg || !source) { return; }
  var data = JSON.parse(source.textContent);
  var frames = data.frames;
  if (!frames.length) { return; }
  var touchMm = parseFloat(svg.getAttribute("data-touch-mm")) || 20;
  var play = document.getElementById("replay-play");
  var slider = document.getElementById("replay-frame");
  var speed = document.getElementById("replay-speed");
  var readout = document.getElementById("replay-readout");
  [play, slider, speed].forEach(function (element) { element.hidden = false; });

  function part(name) { return svg.querySelector('[data-part="' + name + '"]'); }
  var parts = {};
  ["guide", "foot", "leg", "trunk", "neck", "pelvis", "arm", "head", "gap-line", "gap-text", "trunk-text",
   "knee-text", "time-text", "touch-text"].forEach(function (name) { parts[name] = part(name); });

  function xy(point) { return point[0] + "," + (-point[1]); }
  function setLine(line, a, b) {
    line.setAttribute("x1", a[0]); line.setAttribute("y1", -a[1]);
    line.setAttribute("x2", b[0]); line.setAttribute("y2", -b[1]);
  }
  function figure(value, measured, unit) {
    return measured ? Math.round(value) + unit : "not measured";
  }

  var current = parseInt(slider.value, 10) || 0;

  function show(index) {
    current = Math.max(0, Math.min(frames.length - 1, index));
    var frame = frames[current];
    var j = frame.joints;
    parts.foot.setAttribute("points", xy(j.heel) + " " + xy(j.ankle) + " " + xy(j.toe));
    parts.leg.setAttribute("points", xy(j.ankle) + " " + xy(j.knee) + " " + xy(j.hip));
    setLine(parts.trunk, j.hip, j.shoulder);
    setLine(parts.neck, j.shoulder, j.head);
    setLine(parts.guide, j.hip, [j.hip[0], j.hip[1] + 460]);
    parts.pelvis.setAttribute("cx", j.hip[0]);
    parts.pelvis.setAttribute("cy", -j.hip[1]);
    var touching = frame.measured.gap && frame.gap <= touchMm;
    parts.pelvis.classList.toggle("touching", touching);
    parts.arm.setAttribute("points", xy(j.shoulder) + " " + xy(j.elbow) + " " + xy(j.hand));
    parts.head.setAttribute("cx", j.head[0]);
    parts.head.setAttribute("cy", -j.head[1]);
    setLine(parts["gap-line"], [0, j.hip[1]], [Math.max(0, frame.gap), j.hip[1]]);
    parts["gap-text"].textContent = "gap " + figure(frame.gap, frame.measured.gap, " mm");
    parts["touch-text"].textContent = touching ? "touching" : "";
    parts["trunk-text"].textContent = "trunk " + figure(frame.trunk, frame.measured.trunk, "°");
    parts["knee-text"].textContent = "knee " + figure(frame.knee, frame.measured.knee, "°");
    parts["time-text"].textContent = frame.t.toFixed(1) + " s";
    slider.value = String(current);
    slider.setAttribute("aria-valuetext", frame.t.toFixed(2) + " seconds into the rep");
    readout.textContent = "Frame " + (current + 1) + " of " + frames.length + ", " + frame.t.toFixed(2) +
      " s into the rep: gap " + figure(frame.gap, frame.measured.gap, " mm") + ", trunk " +
      figure(frame.trunk, frame.measured.trunk, "°") + ", knee " + figure(frame.knee, frame.measured.knee, "°") + ".";
  }

  var playing = false;
  var startedAt = 0;
  var startT = 0;

  function frameAt(t) {
    var index = current;
    while (index + 1 < frames.length && frames[index + 1].t <= t) { index += 1; }
    return index;
  }

  function tick(now) {
    if (!playing) { return; }
    var t = startT + (now - startedAt) / 1000 * parseFloat(speed.value);
    var index = frameAt(t);
    show(index);
    if (index >= frames.length - 1) { stop(); return; }
    window.requestAnimationFrame(tick);
  }

  function start() {
    if (current >= frames.length - 1) { current = 0; }
    playing = true;
    startT = frames[current].t;
    startedAt = window.performance.now();
    play.textContent = "❚❚ Pause";
    play.setAttribute("aria-pressed", "true");
    svg.setAttribute("data-playing", "true");
    show(current);
    window.requestAnimationFrame(tick);
  }

  function stop() {
    playing = false;
    play.textContent = current >= frames.length - 1 ? "↻ Replay" : "▶ Play";
    play.setAttribute("aria-pressed", "false");
    svg.setAttribute("data-playing", "false");
  }

  play.addEventListener("click", function () {
    if (playing) { stop(); } else { start(); }
  });
  slider.addEventListener("input", function () {
    if (playing) { stop(); }
    show(parseInt(slider.value, 10));
  });
  speed.addEventListener("change", function () {
    if (playing) { startT = frames[current].t; startedAt = window.performance.now(); }
  });
  show(current);
}());
