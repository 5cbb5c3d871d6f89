// The kiosk page: shows what the server decides (web/kiosk/view.py) and sends "I'm up".
//
// - /kiosk/events (server-sent events): "hello" (which start of the server this is), "view" (the
//   screen), "frame" (the wall bar and the lean gauge, about 10 a second), "roster" (fetch the
//   names again).
// - It never navigates while the server is away, so the browser never shows its error page: when
//   the stream drops, EventSource retries by itself; if it gives up (the server answered with an
//   error), /kiosk/ping is polled and the stream opened again once it answers. A server that
//   started afresh (a new "boot") gets a reload, for its new page.
// - The screen is kept awake with the Screen Wake Lock API where the browser has it (the station's
//   own screen is also kept on by deploy/).
// Every text goes in through textContent, never as HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  var urls = {events: script.getAttribute("data-events"), ping: script.getAttribute("data-ping"),
              roster: script.getAttribute("data-roster"), up: script.getAttribute("data-up")};
  var boot = script.getAttribute("data-boot");
  var csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var body = document.body;

  function $(id) { return document.getElementById(id); }
  function setText(id, text) {
    var node = $(id);
    text = text === null || text === undefined ? "" : String(text);
    if (node.textContent !== text) { node.textContent = text; }
  }

  // -- the screen ------------------------------------------------------------------------------

  var shownCue = null;

  function showView(view) {
    body.setAttribute("data-mode", view.mode);
    setText("who", view.participant ? "Up now: " + view.participant : "Wall hinge");
    setText("count", view.count);
    setText("target", view.target);
    setText("set-text", view.set_text);
    setText("count-words", view.count_text + ", " + view.set_text);
    $("paused").hidden = !view.paused;
    showCue(view.cue);
    showLights(view.lights);
    showSummary(view.summary);
    markChosen(view.participant);
  }

  function showCue(cue) {
    var box = $("cue");
    if (!cue) {
      box.setAttribute("data-kind", "none");
      setText("cue-label", "");
      setText("cue-text", "");
      shownCue = null;
      return;
    }
    box.setAttribute("data-kind", cue.kind);
    setText("cue-label", cue.kind === "fix" ? "Tip" : "Great");
    setText("cue-text", cue.text);
    if (shownCue !== cue.id) {
      shownCue = cue.id;
      box.classList.remove("k-new");
      void box.offsetWidth;  // restart the animation
      box.classList.add("k-new");
    }
  }

  // Every flashing lamp on the page's own clock, whenever its flashing began: lamps that flash together
  // stay together, and one "in turn" (half a flash behind, kiosk.css) stays opposite the other.
  function alignBlinking(lamp) {
    if (lamp.getAnimations) { lamp.getAnimations().forEach(function (a) { a.startTime = 0; }); }
  }

  function showLights(lights) {
    ["red", "amber", "green"].forEach(function (colour) {
      var lamp = $("lamp-" + colour);
      var on = !!(lights && lights.lamps && lights.lamps[colour]);
      lamp.classList.toggle("on", on);
      lamp.classList.toggle("blink", on && !!lights.blinking);
      // Lamps that flash in turn: the second (amber) half a flash behind the first.
      lamp.classList.toggle("in-turn", on && !!lights.blinking && !!lights.in_turn && colour === "amber");
      alignBlinking(lamp);
    });
    setText("light-icon", lights ? lights.icon : "");
    setText("light-word", lights && lights.word ? lights.word : "Lights off");
  }

  function showSummary(summary) {
    if (!summary) { return; }
    setText("summary-title", summary.title);
    setText("summary-greeting", summary.greeting);
    setText("summary-next", summary.next || "");
    var list = $("summary-lines");
    var lines = summary.lines || [];
    var same = list.children.length === lines.length && lines.every(function (line, k) {
      return list.children[k].textContent === line;
    });
    if (same) { return; }
    list.textContent = "";
    lines.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
  }

  function showFrame(frame) {
    var wall = $("wall");
    wall.setAttribute("data-touching", frame.touching ? "true" : "false");
    wall.setAttribute("data-present", frame.present ? "true" : "false");
    wall.setAttribute("data-blocked", frame.blocked ? "true" : "false");
    var fill = frame.fill === null || frame.fill === undefined ? 0 : frame.fill;
    $("bar-fill").style.transform = "scaleX(" + fill + ")";
    $("bar").setAttribute("aria-valuenow", String(Math.round(fill * 100)));
    setText("bar-wall-word", frame.touching ? "TOUCH ✓" : "WALL");
    if (frame.touching) {
      setText("bar-word", "Touched the wall!");
    } else if (frame.at_wall) {
      setText("bar-word", "At the wall");  // the gap alone: no rep's touch was counted (web/kiosk/view.py)
    } else if (!frame.present) {
      setText("bar-word", "Step up to the wall");
    } else if (frame.blocked) {
      setText("bar-word", frame.blocked);  // someone in front: nothing of the hips to go by
    } else if (frame.gap_mm === null || frame.gap_mm === undefined) {
      setText("bar-word", "Hips back to the wall");
    } else {
      setText("bar-word", frame.gap_mm >= 100 ? Math.round(frame.gap_mm / 10) + " cm to the wall"
                                               : Math.max(1, Math.round(frame.gap_mm / 10)) + " cm to go");
    }
    var degrees = frame.trunk_deg === null || frame.trunk_deg === undefined ? 0 : frame.trunk_deg;
    degrees = Math.max(0, Math.min(90, degrees));
    $("needle").setAttribute("transform", "rotate(" + degrees + " 40 130)");
    setText("lean-word", frame.lean || (frame.present && !frame.blocked ? "" : "—"));
    setText("lean-deg", frame.trunk_deg === null || frame.trunk_deg === undefined ? "" : Math.round(degrees) + "°");
    // Two cameras: the back's line ("Back not checked" until its measurement is validated); one camera: none.
    $("back-word").hidden = !frame.back;
    setText("back-word", frame.back || "");
  }

  // -- the roster and "I'm up" -----------------------------------------------------------------

  var rosterVersion = null;
  var chosen = null;

  function markChosen(name) {
    chosen = name;
    Array.prototype.forEach.call(document.querySelectorAll(".k-name"), function (button) {
      var mine = button.getAttribute("data-slot") === "guest" ? name === "Guest" : button.getAttribute("data-name") === name;
      button.setAttribute("aria-pressed", mine ? "true" : "false");
    });
  }

  function loadRoster() {
    return window.fetch(urls.roster, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      if (!response.ok) { throw new Error("roster " + response.status); }
      return response.json();
    }).then(function (roster) {
      rosterVersion = roster.version;
      var box = $("roster");
      box.textContent = "";
      if (!roster.people.length) {
        var empty = document.createElement("p");
        empty.className = "k-roster-empty";
        empty.textContent = "No class list today: start as a guest.";
        box.appendChild(empty);
      }
      roster.people.forEach(function (person) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "k-name";
        button.setAttribute("data-slot", person.slot);
        button.setAttribute("data-name", person.name);
        button.textContent = person.name;
        box.appendChild(button);
      });
      markChosen(chosen);
    }).catch(function () { /* the stream's roster message or the next reconnect tries again */ });
  }

  function imUp(button) {
    var slot = button.getAttribute("data-slot");
    setText("up-status", "One moment…");
    window.fetch(urls.up, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify({slot: slot})
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (response.ok) {
          setText("up-status", (answer.up === "Guest" ? "Welcome!" : answer.up + ", you're up!") + " Step up to the wall.");
          markChosen(answer.up);
        } else if (answer.roster_changed) {
          setText("up-status", "The class list changed: tap your name again.");
          loadRoster();
        } else {
          setText("up-status", "That did not work: please ask your coach.");
        }
      });
    }).catch(function () {
      setText("up-status", "The station cannot be reached: please ask your coach.");
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".k-name") : null;
    if (button) { imUp(button); }
  });

  // -- the connection ----------------------------------------------------------------------------

  var source = null;
  var downSince = null;
  var pinging = false;

  function setConnection(state) {
    body.setAttribute("data-connection", state);
    setText("conn-words", state === "up" ? "Live" : state === "down" ? "Reconnecting…" : "Connecting…");
  }

  function connect() {
    if (source) { source.close(); }
    source = new EventSource(urls.events);
    source.addEventListener("open", function () {
      downSince = null;
      setConnection("up");
      loadRoster();
    });
    source.addEventListener("error", function () {
      if (downSince === null) { downSince = Date.now(); }
      setConnection("down");
      if (source.readyState === EventSource.CLOSED) { startPinging(); }
    });
    source.addEventListener("hello", function (message) {
      if (JSON.parse(message.data).boot !== boot) { window.location.reload(); }  // a new start: its own page
    });
    source.addEventListener("view", function (message) { showView(JSON.parse(message.data)); });
    source.addEventListener("frame", function (message) { showFrame(JSON.parse(message.data)); });
    source.addEventListener("roster", function (message) {
      var data = JSON.parse(message.data);
      if (data.version !== rosterVersion) { loadRoster(); }
    });
  }

  function startPinging() {
    if (pinging) { return; }
    pinging = true;
    window.setTimeout(ping, 1000);
  }

  function ping() {
    window.fetch(urls.ping, {credentials: "same-origin", cache: "no-store"}).then(function (response) {
      if (!response.ok) { throw new Error("ping " + response.status); }
      return response.json();
    }).then(function (answer) {
      pinging = false;
      if (answer.boot !== boot || !answer.access) {
        window.location.reload();  // the server answers: safe to load the page afresh
      } else {
        connect();
      }
    }).catch(function () {
      window.setTimeout(ping, 2000);
    });
  }

  // A stream stuck in "reconnecting" for long (a proxy that holds the socket) is started again.
  window.setInterval(function () {
    if (downSince !== null && Date.now() - downSince > 20000 && !pinging) {
      if (source) { source.close(); }
      downSince = Date.now();
      startPinging();
    }
  }, 5000);

  // -- the idle screen's two pages on a small screen ----------------------------------------------

  window.setInterval(function () {
    if (body.getAttribute("data-mode") !== "idle") { return; }
    body.setAttribute("data-idle-page", body.getAttribute("data-idle-page") === "howto" ? "legend" : "howto");
  }, 15000);

  // -- keep the screen on ----------------------------------------------------------------------

  var wakeLock = null;
  function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible" || wakeLock) { return; }
    navigator.wakeLock.request("screen").then(function (lock) {
      wakeLock = lock;
      lock.addEventListener("release", function () { wakeLock = null; });
    }).catch(function () { /* refused (no user gesture yet, battery saver): deploy/ keeps the station's screen on */ });
  }
  document.addEventListener("visibilitychange", keepAwake);
  document.addEventListener("click", keepAwake);
  keepAwake();

  connect();
}());
