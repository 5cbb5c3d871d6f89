// The live session page: follows /live/events (server-sent events) and sends the
// start / pause / end buttons as JSON with the page's CSRF token. Every text from
// the station goes in through textContent, never as HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  var eventsUrl = script.getAttribute("data-events");
  var sessionUrl = script.getAttribute("data-session-url");  // ends in /0
  var connection = document.getElementById("connection");
  var stateText = document.getElementById("station-state");
  var sessionLink = document.getElementById("station-session");
  var lightsWords = document.getElementById("lights-words");
  var repBody = document.getElementById("rep-body");
  var commandStatus = document.getElementById("command-status");
  var log = document.getElementById("event-log");
  var nowText = document.getElementById("station-now");
  var backText = document.getElementById("station-back");
  // The notes a frame may carry, each held 3 s (frame time) after the last frame that said it: a hinge
  // brings the head in and out of the picture rep by rep, and a reading near the wall wavers.
  var NOTES = [
    {key: "view_note", prefix: "Camera: ", node: document.getElementById("station-view"), until: null},
    {key: "setup_note", prefix: "Set-up: ", node: document.getElementById("station-setup"), until: null}
  ];
  var troubleText = document.getElementById("station-trouble");
  var storageAlert = document.getElementById("storage-alert");

  // The words come from the server (web/live_views.py), so the page and this script say the same.
  var WORDS = JSON.parse(document.getElementById("live-words").textContent);
  var FAULTS = WORDS.faults, PATTERNS = WORDS.lamps, STATES = WORDS.states, COMMANDS = WORDS.commands;
  var lastSession = null;  // "state set" of the last session event logged

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function clock(iso) {
    if (!iso) { return ""; }
    var when = new Date(iso);
    // 24-hour, as the other pages show times, whatever the browser's language.
    return isNaN(when) ? "" : when.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit",
                                                           hourCycle: "h23"});
  }
  // The station's word on its database: shown while it cannot write (the same words the page was served with).
  function showStorage(storage) {
    if (!storageAlert || !storage) { return; }
    var failing = storage.state !== "ok";
    storageAlert.textContent = failing ? (storage.message || "Storage is failing.") : "";
    storageAlert.hidden = !failing;
  }
  function round(value, unit, missing) {
    return value === null || value === undefined ? (missing || "not measured") : Math.round(value) + unit;
  }

  function addLog(text, time) {
    var first = log.firstElementChild;
    if (first && first.classList.contains("muted")) { log.removeChild(first); }
    var item = el("li", null, (time ? clock(time) + " · " : "") + text);
    log.insertBefore(item, log.firstChild);
    while (log.children.length > 12) { log.removeChild(log.lastChild); }
  }

  function who(session) {
    if (session.patient_name) { return session.patient_name; }
    if (session.patient_id) { return WORDS.names[String(session.patient_id)] || "a patient no longer listed"; }
    return session.session_id ? "Guest" : null;
  }

  function showSession(session) {
    if (!session) { stateText.textContent = "No session reported by the station yet."; return; }
    var words = [STATES[session.state] || session.state || "Unknown"];
    var name = who(session);
    if (name) { words.push(name); }
    if (session.set_number) {
      var set = "set " + session.set_number;
      if (session.good_reps_in_set !== undefined && session.good_reps_in_set !== null) {
        set += ": " + session.good_reps_in_set + (session.reps_per_set ? " of " + session.reps_per_set : "") + " good";
      }
      words.push(set);
    }
    stateText.textContent = words.join(" · ");
    sessionLink.textContent = "";
    if (session.session_id) {
      var link = el("a", null, "Open this session's page");
      link.href = sessionUrl.replace(/0$/, encodeURIComponent(session.session_id));
      sessionLink.appendChild(link);
    }
  }

  function showNow(frame) {
    if (!frame) { return; }
    if (frame.present === false) { nowText.textContent = "Now: no one at the wall."; return; }
    if (frame.hidden) {
      nowText.textContent = "Now: not measured, " + frame.hidden + ": " + WORDS.hidden_hint + ".";
      return;
    }
    if (frame.wall_gap_mm === undefined && frame.trunk_angle_deg === undefined) { return; }
    nowText.textContent = "Now: gap " + round(frame.wall_gap_mm, " mm") + " · trunk " + round(frame.trunk_angle_deg, "°") +
      " · knee " + round(frame.knee_flexion_deg, "°");
  }

  // Two cameras: the back's state this frame (one camera: nothing; each rep then says "Back not checked").
  function showBack(frame) {
    if (!frame || frame.back_checked === undefined || frame.back_checked === null) { return; }
    if (!frame.back_checked) {
      backText.textContent = "Back: not checked \u2014 " + (frame.back_reason || "no reason given") + ".";
    } else if (frame.spine_flexion_deg === null || frame.spine_flexion_deg === undefined) {
      backText.textContent = "Back: not read this moment \u2014 " + (frame.back_reason || "no reading") + ".";
    } else {
      // Against the patient's own back early in the set (negative: straighter than then).
      backText.textContent = "Back: spine flexion " + round(frame.spine_flexion_deg, "\u00b0") +
        " against their own at the set's start.";
    }
  }

  // Why the measures read less well (view_note: the head above the picture) and what in the set-up keeps a
  // rep from being told (setup_note: the hips at the wall standing).
  function showNotes(frame) {
    if (!frame || frame.t_s === undefined) { return; }
    NOTES.forEach(function (note) {
      if (frame[note.key]) {
        note.until = frame.t_s + 3.0;
        note.node.textContent = note.prefix + frame[note.key] + ".";
      } else if (note.until === null || frame.t_s > note.until || frame.t_s < note.until - 3.0) {
        note.until = null;
        note.node.textContent = "";
      }
    });
  }

  function showStation(event) {
    if (!event) { return; }
    troubleText.textContent = event.state === "trouble" ? "Trouble: " + (event.reason || "see the station") : "";
  }

  function showLights(lights) {
    ["red", "amber", "green"].forEach(function (colour) {
      var lamp = document.getElementById("lamp-" + colour);
      var on = false;
      if (lights) {
        on = lights.colour === "all" || (!!lights.colour && lights.colour.split("+").indexOf(colour) >= 0) ||
             (!lights.colour && lights.lamps && lights.lamps[colour] > 0.05);
      }
      lamp.classList.toggle("on", on);
      lamp.classList.toggle("blink", on && !!(lights && lights.blinking));
      // Two colours joined ("red+amber") flash in turn: the second half a flash behind the first.
      var joined = lights && lights.colour ? lights.colour.split("+") : [];
      lamp.classList.toggle("in-turn", on && !!(lights && lights.blinking) && joined.indexOf(colour) > 0);
      // On the page's own clock, whenever the flashing began, so lamps "in turn" stay opposite.
      if (lamp.getAnimations) { lamp.getAnimations().forEach(function (a) { a.startTime = 0; }); }
    });
    if (!lights) { lightsWords.textContent = "Lamps: not reported yet."; return; }
    var words = [];
    if (lights.pattern) {
      words.push(PATTERNS[lights.pattern] || lights.pattern);
      if (lights.colour) {
        words.push((lights.colour === "all" ? "all lamps" : lights.colour.indexOf("+") >= 0
                    ? lights.colour.split("+").join(" and ") + " lamps" : lights.colour + " lamp") +
                   (lights.blinking ? " flashing" : " steady"));
      }
    } else {
      words.push("Lamps off");
    }
    if (lights.reason) { words.push(lights.reason); }
    // The buzzer's note name (A4, C5) means nothing to a clinician: only whether it sounds.
    if (lights.muted) { words.push("sound muted"); } else if (lights.sound) { words.push("sound on"); }
    lightsWords.textContent = words.join(" · ");
  }

  function badge(name) {
    return el("span", "badge fault-" + name, FAULTS[name] || name);
  }

  function showRep(event) {
    repBody.textContent = "";
    if (!event || !event.rep) { repBody.appendChild(el("p", "muted", "No rep yet in this session.")); return; }
    var rep = event.rep;
    var title = el("p");
    // No score: the rep's bottom was not seen (station/scoring.py), so it says so, never 100 or "null".
    var scored = rep.score !== null && rep.score !== undefined;
    title.appendChild(el("span", null, (event.set_number ? "Set " + event.set_number + ", " : "") + "rep " + rep.index +
                         (scored ? " · score " : " · ")));
    title.appendChild(el("span", scored ? "score" : "score not-scored", scored ? rep.score : WORDS.not_scored));
    repBody.appendChild(title);
    var faults = el("p");
    var backChecked = rep.peak_spine_flexion_deg !== null && rep.peak_spine_flexion_deg !== undefined;
    // No closest gap: the buttocks were hidden at the bottom, the touch was not judged (web/filters.py's rule).
    var touchChecked = rep.min_wall_gap_mm !== null && rep.min_wall_gap_mm !== undefined;
    // No peak trunk: the rep's bottom was not seen, none of its bottom faults judged (web/filters.py's rule).
    var bottomSeen = rep.peak_trunk_angle_deg !== null && rep.peak_trunk_angle_deg !== undefined;
    // No peak knee bend with the bottom seen: the legs were out of view, the squat not judged (the same rule).
    var kneeChecked = rep.peak_knee_flexion_deg !== null && rep.peak_knee_flexion_deg !== undefined;
    if (rep.faults && rep.faults.length) { rep.faults.forEach(function (name) { faults.appendChild(badge(name)); }); }
    else if (!bottomSeen) { faults.appendChild(el("span", "badge neutral bottom-unseen", WORDS.bottom_not_seen_badge)); }
    else {
      faults.appendChild(el("span", "badge ok",
                            backChecked && touchChecked && kneeChecked ? WORDS.no_fault : WORDS.no_fault_seen));
    }
    if (!touchChecked) {
      faults.appendChild(el("span", "badge neutral touch-unchecked", WORDS.not_checked.touch));
    }
    if (bottomSeen && !kneeChecked) {
      faults.appendChild(el("span", "badge neutral knee-unchecked", WORDS.not_checked.knee));
    }
    if (!backChecked) { faults.appendChild(el("span", "badge neutral back-unchecked", WORDS.not_checked.back)); }
    repBody.appendChild(faults);
    if (!backChecked && rep.back_note) {
      // Why, as the dashboard says it (station/faults.py's back_note_words).
      repBody.appendChild(el("p", "small back-why", WORDS.not_checked.back + ": " + rep.back_note + "."));
    }
    (rep.lost_points || []).forEach(function (item) {
      repBody.appendChild(el("p", "small", "−" + item.points + " " + (FAULTS[item.fault] || item.fault) + ": " + item.why));
    });
    repBody.appendChild(el("p", "muted", "closest gap " + round(rep.min_wall_gap_mm, " mm") + " · trunk " +
      // No peak trunk: the rep's bottom was not seen (someone in front of the patient).
      round(rep.peak_trunk_angle_deg, "°", WORDS.bottom_not_seen) + " · knee " +
      round(rep.peak_knee_flexion_deg, "°") + " · down " +
      // With the bottom not seen, when the descent ended is not known: no time down either.
      (rep.peak_trunk_angle_deg === null || rep.peak_trunk_angle_deg === undefined ? WORDS.bottom_not_seen
       : rep.descent_s === null || rep.descent_s === undefined ? "—" : rep.descent_s.toFixed(1) + " s")));
    if (rep.view_note) {
      // Its bottom was read off less of the patient (the head above the picture): said beside its trunk, as the
      // dashboard says it (station/faults.py's bottom_view_words).
      var words = WORDS.at_its_bottom + " " + rep.view_note + ".";
      repBody.appendChild(el("p", "small view-note", words.charAt(0).toUpperCase() + words.slice(1)));
    }
  }

  function connect() {
    var source = new EventSource(eventsUrl);
    connection.textContent = "Connecting…";
    connection.className = "connection";
    source.addEventListener("open", function () {
      connection.textContent = "Live";
      connection.className = "connection up";
    });
    source.addEventListener("error", function () {
      connection.textContent = source.readyState === EventSource.CLOSED ? "Disconnected: reload the page" : "Reconnecting…";
      connection.className = "connection down";
    });
    source.addEventListener("state", function (message) {
      var state = JSON.parse(message.data);
      showSession(state.session);
      showLights(state.lights);
      showRep(state.latest_rep);
      showNow(state.latest && state.latest.frame);
      showBack(state.latest && state.latest.frame);
      showNotes(state.latest && state.latest.frame);
      showStation(state.latest && state.latest.station);
      showStorage(state.latest && state.latest.storage);
    });
    source.addEventListener("frame", function (message) {
      var frame = JSON.parse(message.data);
      if (frame.lights) { showLights(frame.lights); }
      showNow(frame);
      showBack(frame);
      showNotes(frame);
    });
    source.addEventListener("station", function (message) {
      var event = JSON.parse(message.data);
      showStation(event);
      addLog("Station " + (event.state || "").replace("_", " ") + (event.reason ? ": " + event.reason : ""), event.time);
    });
    source.addEventListener("storage", function (message) { showStorage(JSON.parse(message.data)); });
    source.addEventListener("patient", function (message) {
      var event = JSON.parse(message.data);
      addLog(event.present ? "Patient at the wall" : "Patient stepped away", event.time);
    });
    source.addEventListener("set_complete", function (message) {
      var event = JSON.parse(message.data);
      addLog("Set " + event.set_number + " complete: " + event.good_reps + " good reps" +
             (event.ready_to_progress ? " · ready to progress" : ""), event.time);
    });
    source.addEventListener("session", function (message) {
      var event = JSON.parse(message.data);
      showSession(event);
      // Logged when the station's state or set changes, not on every rep's update.
      var key = event.state + " " + event.set_number + " " + event.session_id;
      if (key !== lastSession) {
        lastSession = key;
        addLog((STATES[event.state] || event.state) + (event.set_number && event.state !== "idle" ? " · set " +
               event.set_number : ""), event.time);
      }
    });
    source.addEventListener("lights", function (message) { showLights(JSON.parse(message.data).lights); });
    source.addEventListener("rep", function (message) {
      var event = JSON.parse(message.data);
      showRep(event);
      if (event.lights) { showLights(event.lights); }
      var named = (event.rep.faults || []).map(function (name) { return FAULTS[name] || name; });
      var scored = event.rep.score !== null && event.rep.score !== undefined;
      addLog("Rep " + event.rep.index + ": " + (scored ? "score " + event.rep.score : WORDS.not_scored) +
             (named.length ? " · " + named.join(", ") : ""), event.time);
    });
    source.addEventListener("command", function (message) {
      var event = JSON.parse(message.data);
      addLog((COMMANDS[event.command] || event.command) + " asked by " + event.by, event.time);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.js-command"), function (form) {
    form.addEventListener("submit", function (submit) {
      submit.preventDefault();
      var data = new FormData(form);
      var body = {command: data.get("command")};
      if (data.has("patient_id")) { body.patient_id = data.get("patient_id") ? parseInt(data.get("patient_id"), 10) : null; }
      commandStatus.textContent = "Sending…";
      window.fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": data.get("csrf_token")},
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (answer) {
          if (response.ok) {
            commandStatus.textContent = (COMMANDS[body.command] || body.command) + ": sent to the station at " + clock(answer.command.issued) + ".";
          } else {
            commandStatus.textContent = "Not sent: " + (answer.error || response.statusText);
          }
        });
      }).catch(function () {
        commandStatus.textContent = "Not sent: the dashboard cannot be reached. Check the network and try again.";
      });
    });
  });

  connect();
}());
