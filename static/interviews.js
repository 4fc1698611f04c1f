// consult: the interviewer's entry form on a poor network, and kiosk mode. A small script of
// the project's own; every page works without it (plain POST and redirect).
//
// Interview form: each entry is sent as JSON with a client UUID made here. When the network or
// the server fails, the entry is kept in localStorage and resent later (periodically and on the
// `online` event); the server treats a resent UUID as the same response, so nothing is stored twice.
(function () {
  "use strict";
  if (window.consultInterviews) { return; }
  window.consultInterviews = true;

  // Each interviewer's waiting entries are their own: on a shared device, the next person to log in
  // must not send them under their name. setupInterview adds the logged-in person's id.
  var QUEUE_KEY = "consult.interviews.queue.v2";
  var PROBLEMS_KEY = "consult.interviews.problems.v2";
  var META_FIELDS = ["csrftoken", "survey", "channel", "place", "client_uuid", "started_at"];
  // Inputs that are buttons: Enter on them is a deliberate press.
  var ENTER_SUBMITS = ["submit", "button", "reset", "image"];

  // --- storage ---------------------------------------------------------------------------------

  function load(key) {
    try {
      var items = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (error) {
      return [];
    }
  }

  function save(key, items) {
    try {
      window.localStorage.setItem(key, JSON.stringify(items));
      return true;
    } catch (error) {
      return false;  // storage full or disabled: the caller keeps the answers in the form
    }
  }

  function withoutUuid(items, uuid) {
    return items.filter(function (item) { return item.payload.client_uuid !== uuid; });
  }

  function enqueue(entry) {
    var queue = withoutUuid(load(QUEUE_KEY), entry.payload.client_uuid);
    queue.push(entry);
    return save(QUEUE_KEY, queue);
  }

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  // --- sending -----------------------------------------------------------------------------------

  // "ok" (stored, or stored before), "invalid" (the server refuses it as it is), "login" (the
  // session has ended), "password" (the account's temporary password must be replaced first) or
  // "retry" (no network, or the server failed).
  function send(entry) {
    return window.fetch(entry.api, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Requested-With": "XMLHttpRequest"
      },
      body: JSON.stringify(entry.payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        var status = response.status;
        var kind = "retry";
        if (status === 200 || status === 201) { kind = "ok"; }
        else if (status === 401) { kind = "login"; }
        // A temporary password must be replaced first (403): the entries wait, as for a new login.
        else if (body.code === "password_change_required") { kind = "password"; }
        else if (status >= 400 && status < 500 && status !== 408 && status !== 429) { kind = "invalid"; }
        return { kind: kind, status: status, body: body };
      });
    }, function () {
      return { kind: "retry", status: 0, body: {} };
    });
  }

  var flushing = false;

  // Send the waiting entries one by one, oldest first; stop at the first that must wait.
  function flush(ui) {
    if (flushing) { return Promise.resolve(); }
    flushing = true;
    var sent = 0;
    var refused = 0;
    function next() {
      var queue = load(QUEUE_KEY);
      if (!queue.length) { return Promise.resolve(); }
      var entry = queue[0];
      return send(entry).then(function (result) {
        if (result.kind === "retry" || result.kind === "login" || result.kind === "password") {
          if (ui) { ui.waitingFor(result.kind); }
          return null;
        }
        save(QUEUE_KEY, withoutUuid(load(QUEUE_KEY), entry.payload.client_uuid));
        if (result.kind === "ok") { sent += 1; }
        if (result.kind === "invalid") {
          refused += 1;
          entry.status = result.status;
          var problems = withoutUuid(load(PROBLEMS_KEY), entry.payload.client_uuid);
          problems.push(entry);
          save(PROBLEMS_KEY, problems);
        }
        if (ui) { ui.waitingFor(""); ui.refresh(); }
        return next();
      });
    }
    return next().then(function () {
      flushing = false;
      if (ui) {
        ui.refresh();
        // The "no connection" notice from when the entries were kept no longer holds once the
        // server has answered for every one of them, whether it took them or refused some.
        if ((sent || refused) && !load(QUEUE_KEY).length) { ui.flushed(sent, refused); }
      }
    }, function () {
      flushing = false;
    });
  }

  // --- the entry form ----------------------------------------------------------------------------

  function fieldsOf(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && META_FIELDS.indexOf(el.name) === -1 && el.type !== "submit" && el.type !== "button";
    });
  }

  function formPairs(form) {
    var pairs = [];
    fieldsOf(form).forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
      if (el.value === "") { return; }
      pairs.push([el.name, el.value]);
    });
    return pairs;
  }

  function firstField(form) {
    return fieldsOf(form).filter(function (el) {
      return !el.disabled && el.offsetParent !== null;
    })[0];
  }

  function clearErrors(container) {
    container.querySelectorAll(".error-summary, .error-message").forEach(function (el) { el.remove(); });
    container.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    container.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
  }

  function clearForm(form, container) {
    fieldsOf(form).forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") { el.checked = false; }
      else if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      else { el.value = ""; }
    });
    clearErrors(container);
    form.elements.client_uuid.value = newUuid();
    form.elements.started_at.value = new Date().toISOString();
    form.dispatchEvent(new Event("change"));  // consult.js shows and hides conditional questions
  }

  function fillForm(form, container, entry) {
    clearForm(form, container);
    entry.payload.form.forEach(function (pair) {
      var matches = form.querySelectorAll('[name="' + window.CSS.escape(pair[0]) + '"]');
      matches.forEach(function (el) {
        if (el.type === "radio" || el.type === "checkbox") {
          if (el.value === pair[1]) { el.checked = true; }
        } else {
          el.value = pair[1];
        }
      });
    });
    // A UUID the server refused as a conflict must not be used again; an invalid entry keeps its own.
    form.elements.client_uuid.value = entry.status === 409 ? newUuid() : entry.payload.client_uuid;
    form.elements.started_at.value = entry.payload.started_at || "";
    form.dispatchEvent(new Event("change"));
  }

  function text(container, name, count) {
    var template = container.getAttribute("data-text-" + name) || "";
    return template.replace("{n}", String(count));
  }

  function setupInterview(container) {
    var form = container.querySelector("form[data-interview-form]");
    if (!form) { return; }
    var person = container.getAttribute("data-person") || "";
    QUEUE_KEY += "." + person;
    PROBLEMS_KEY += "." + person;
    var status = container.querySelector("#entry-status");
    var queueStatus = container.querySelector("#queue-status");
    var problemsBox = container.querySelector("#queue-problems");
    var problemsText = container.querySelector("#queue-problems-text");
    var problemsButton = container.querySelector("#queue-problems-load");
    var saveButton = form.querySelector("[data-save]");
    var api = container.getAttribute("data-api");
    var retrySeconds = parseInt(container.getAttribute("data-retry-seconds"), 10) || 15;
    var waitingFor = "";  // "login" or "password" when the waiting entries need the person first

    function announce(message) {
      status.textContent = "";
      var p = document.createElement("p");
      p.className = "notice";
      p.textContent = message;
      status.appendChild(p);
    }

    var ui = {
      refresh: function () {
        var waiting = load(QUEUE_KEY).length;
        container.setAttribute("data-waiting", String(waiting));
        if (waiting) {
          var message = waiting === 1 ? text(container, "waiting-one", 1) : text(container, "waiting-many", waiting);
          var needed = waitingFor === "login" || waitingFor === "password";
          queueStatus.textContent = needed ? message + ". " + text(container, waitingFor, 0) : message;
          queueStatus.hidden = false;
        } else {
          queueStatus.textContent = "";
          queueStatus.hidden = true;
        }
        var problems = load(PROBLEMS_KEY).length;
        problemsBox.hidden = problems === 0;
        problemsText.textContent = problems === 1 ? text(container, "problem-one", 1) : text(container, "problem-many", problems);
      },
      waitingFor: function (reason) { waitingFor = reason; },
      flushed: function (sent, refused) {
        if (!refused) {
          announce(text(container, "sent", 0));
          return;
        }
        var parts = [text(container, "back", 0)];
        if (sent) { parts.push(sent === 1 ? text(container, "back-sent-one", 1) : text(container, "back-sent-many", sent)); }
        parts.push(refused === 1 ? text(container, "back-refused-one", 1) : text(container, "back-refused-many", refused));
        announce(parts.join(" "));
      }
    };

    function collect() {
      return {
        api: api,
        payload: {
          survey: form.elements.survey.value,
          channel: form.elements.channel.value,
          event_name: form.elements.place.value || null,
          client_uuid: form.elements.client_uuid.value || newUuid(),
          language: document.documentElement.lang === "en" ? "en" : "sv",
          started_at: form.elements.started_at.value || null,
          submitted_at: new Date().toISOString(),
          form: formPairs(form)
        }
      };
    }

    function nextEntry(message) {
      clearForm(form, container);
      announce(message);
      var field = firstField(form);
      if (field) { field.focus(); }
      ui.refresh();
    }

    function keep(entry) {
      if (enqueue(entry)) {
        nextEntry(text(container, "queued", 0));
      } else {
        announce(text(container, "refused", 0));  // nowhere to keep it: the answers stay in the form
      }
    }

    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-native") === "1") { return; }
      event.preventDefault();
      if (saveButton.disabled) { return; }
      var entry = collect();
      form.elements.client_uuid.value = entry.payload.client_uuid;
      saveButton.disabled = true;
      send(entry).then(function (result) {
        saveButton.disabled = false;
        if (result.kind === "ok") {
          nextEntry(text(container, "saved", 0));
        } else if (result.status === 422) {
          // Let the server show its messages beside the fields, exactly as without JavaScript.
          form.setAttribute("data-native", "1");
          HTMLFormElement.prototype.submit.call(form);
        } else if (result.kind === "invalid") {
          announce(text(container, "refused", 0) + " " + (result.body.detail || result.status));
        } else {
          ui.waitingFor(result.kind);
          keep(entry);
        }
      });
    });

    // Ctrl+Enter saves from any field; a plain Enter in a field never does, so a half-entered
    // respondent is not saved by a slip of the finger. The form's first, disabled submit button
    // only stops Enter in text fields: from a radio or checkbox, Chromium's implicit submission
    // skips it and clicks "Save and next". Enter on a button, and in a textarea, works as usual.
    form.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.isComposing) { return; }
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(saveButton); } else { saveButton.click(); }
      } else if (event.target.tagName === "INPUT" && ENTER_SUBMITS.indexOf(event.target.type) === -1) {
        event.preventDefault();
      }
    });

    problemsButton.addEventListener("click", function () {
      var problems = load(PROBLEMS_KEY);
      if (!problems.length) { return; }
      var entry = problems[0];
      if (entry.payload.survey !== form.elements.survey.value) {
        var query = new URLSearchParams({
          survey: entry.payload.survey, channel: entry.payload.channel, place: entry.payload.event_name || ""
        });
        window.location.href = "/intervju/formular?" + query.toString();
        return;
      }
      save(PROBLEMS_KEY, problems.slice(1));
      fillForm(form, container, entry);
      ui.refresh();
      var field = firstField(form);
      if (field) { field.focus(); }
    });

    var summary = container.querySelector(".error-summary");
    var field = firstField(form);
    if (summary) { summary.focus(); } else if (field) { field.focus(); }
    ui.refresh();
    flush(ui);
    window.addEventListener("online", function () { flush(ui); });
    window.setInterval(function () { flush(ui); }, retrySeconds * 1000);
  }

  // --- kiosk mode ---------------------------------------------------------------------------------

  // After a period without input the kiosk starts over; the reset form deletes the abandoned
  // answers on the server. Looked up afresh each time because htmx swaps the page.
  function setupKioskIdle() {
    var form = document.querySelector("form[data-kiosk-reset]");
    if (!form) { return; }
    var seconds = parseInt(form.getAttribute("data-kiosk-idle-seconds"), 10) || 180;
    var timer = null;
    function restart() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var current = document.querySelector("form[data-kiosk-reset]");
        if (current) { HTMLFormElement.prototype.submit.call(current); }
      }, seconds * 1000);
    }
    ["keydown", "pointerdown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, restart, { passive: true, capture: true });
    });
    restart();
  }

  var returnTimer = null;

  function setupKioskReturn(root) {
    var box = (root || document).querySelector("[data-kiosk-return]");
    if (!box || returnTimer) { return; }
    var seconds = parseInt(box.getAttribute("data-kiosk-return-seconds"), 10) || 8;
    var note = box.querySelector("[data-kiosk-return-note]");
    if (note) { note.textContent = note.getAttribute("data-with-script"); }
    returnTimer = window.setTimeout(function () {
      window.location.replace(box.getAttribute("data-kiosk-return"));
    }, seconds * 1000);
  }

  // A kiosk page reached with the browser's Back or Forward button comes from the browser's
  // cache, with the previous person's choices restored into the form: the next person must
  // never see them, so such a page gives way to the kiosk's start page at once.
  function kioskHome() {
    var reset = document.querySelector("form[data-kiosk-reset]");
    if (reset) { return reset.getAttribute("data-kiosk-home"); }
    var box = document.querySelector("[data-kiosk-return]");
    return box ? box.getAttribute("data-kiosk-return") : null;
  }

  function leaveIfFromHistory(persisted) {
    var home = kioskHome();
    if (!home) { return; }
    var entry = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    if (persisted || (entry && entry.type === "back_forward")) {
      document.documentElement.style.visibility = "hidden";
      window.location.replace(home);
    }
  }

  window.addEventListener("pageshow", function (event) { if (event.persisted) { leaveIfFromHistory(true); } });

  // --- place names on the interviewers' page ---------------------------------------------------
  // Each survey's place and event names already used are a datalist; a place field offers those of
  // the survey chosen beside it.
  function setupPlaceSuggestions() {
    var selects = document.querySelectorAll("select[data-places-for]");
    Array.prototype.forEach.call(selects, function (select) {
      var input = document.getElementById(select.getAttribute("data-places-for"));
      if (!input) { return; }
      var follow = function () {
        var list = "places-" + select.value;
        if (document.getElementById(list)) { input.setAttribute("list", list); } else { input.removeAttribute("list"); }
      };
      select.addEventListener("change", follow);
      follow();
    });
  }

  function start() {
    leaveIfFromHistory(false);
    setupPlaceSuggestions();
    var container = document.querySelector("[data-interview]");
    if (container) { setupInterview(container); }
    setupKioskIdle();
    setupKioskReturn(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:afterSettle", function () { setupKioskReturn(document); });
})();
