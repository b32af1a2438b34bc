/* Live run pages for the admin: the execution and suite-run pages refresh in place while a run
 * goes on, and a project's page shows what runs now.
 *
 * One seam: every page says what it follows in data- attributes of its <script> tag. With a
 * WebSocket (uvicorn) each pushed event re-reads the page's main content from the server, so what
 * appears is exactly what a reload would show (steps with status, duration and message, the
 * failing screenshot once stored, counts). Without one (gunicorn: HTTP only) the page polls.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var POLL_MS = 2000;

  function socketUrl(path) {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  }

  // --- Run pages: re-render the main content when something happened -------------------------
  function followRun() {
    var path = script.dataset.stream, last = parseInt(script.dataset.lastSeq || "0", 10);
    var pending = null, polling = null, socket = null, done = false;

    function refresh() {
      pending = null;
      fetch(location.href, {credentials: "same-origin", headers: {"X-Requested-With": "live"}})
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          // The content (title, object tools, fields, inlines) and the breadcrumbs, which name the status.
          ["content", "content-main"].some(function (id) {
            var fresh = page.getElementById(id), current = document.getElementById(id);
            if (fresh && current) { current.replaceWith(fresh); return true; }
            return false;
          });
          var crumbs = page.querySelector(".breadcrumbs"), shown = document.querySelector(".breadcrumbs");
          if (crumbs && shown) shown.replaceWith(crumbs);
          var marker = page.querySelector("script[data-live='run']");
          if (marker && marker.dataset.final === "true") stop();
        })
        .catch(function () { /* the next event or poll tries again */ });
    }
    function soon() { if (!pending) pending = setTimeout(refresh, 250); }
    function stop() {
      done = true;
      if (polling) clearInterval(polling);
      if (socket) socket.close(1000);
    }
    function poll() { if (!polling && !done) polling = setInterval(refresh, POLL_MS); }
    function connect(attempt) {
      var opened = false;
      try { socket = new WebSocket(socketUrl(path + "?after=" + last), ["jbtestsuite"]); } catch (e) { return poll(); }
      socket.onopen = function () { opened = true; };
      socket.onmessage = function (frame) {
        var message = JSON.parse(frame.data);
        if (message.type === "event") { last = message.seq; soon(); }
      };
      socket.onclose = function (closing) {
        if (done) return;
        if (closing.code === 1000) { refresh(); return stop(); }   // finished: one last render
        if (!opened || attempt >= 5) return poll();                // no WebSocket here: poll
        setTimeout(function () { connect(attempt + 1); }, 1000 * attempt);
      };
    }
    document.documentElement.dataset.liveMode = "pending";
    if (script.dataset.final === "true") return;
    if (!("WebSocket" in window)) return poll();
    connect(1);
  }

  // --- A project's page: what runs now -------------------------------------------------------
  function followProject() {
    var strip = document.createElement("div"), runs = {}, suites = {};
    strip.id = "live-activity";
    strip.setAttribute("aria-live", "polite");
    strip.style.cssText = "clear:both;margin:0 0 16px;padding:8px 12px;border:1px solid #ccc;border-radius:6px;" +
                          "background:#f8f9fa";
    var main = document.getElementById("content-main") || document.body;
    main.parentNode.insertBefore(strip, main);

    function render(mode) {
      strip.textContent = "";
      var title = document.createElement("strong");
      title.textContent = "Running now";
      strip.appendChild(title);
      var items = Object.keys(suites).map(function (id) {
        var s = suites[id], done = s.passed + s.failed + s.errored + s.cancelled;
        return "Suite " + s.suite_name + ": " + done + "/" + s.total + " done (" + s.status + ")";
      }).concat(Object.keys(runs).map(function (id) { return runs[id].case_name + ": " + runs[id].status; }));
      var list = document.createElement("span");
      list.textContent = items.length ? " — " + items.join(" · ") : " — nothing";
      strip.appendChild(list);
      strip.dataset.mode = mode || strip.dataset.mode || "";
    }
    var socket;
    try { socket = new WebSocket(socketUrl(script.dataset.stream), ["jbtestsuite"]); } catch (e) { return; }
    socket.onmessage = function (frame) {
      var message = JSON.parse(frame.data), data = message.data || {};
      if (message.type === "hello") {
        message.executions.forEach(function (e) { runs[e.id] = e; });
        message.suite_runs.forEach(function (s) { suites[s.id] = s; });
        return render(message.mode);
      }
      if (message.kind && message.kind.indexOf("execution.") === 0) {
        if (data.status === "queued" || data.status === "running") {
          runs[message.execution] = {case_name: data.case_name || (runs[message.execution] || {}).case_name || "",
                                     status: data.status};
        } else {
          delete runs[message.execution];
        }
      } else if (message.kind && message.kind.indexOf("suite_run.") === 0) {
        var known = suites[message.suite_run] || {suite_name: ""};
        if (message.kind === "suite_run.finished") delete suites[message.suite_run];
        else suites[message.suite_run] = Object.assign({}, known, data);
      }
      render();
    };
    socket.onclose = function () { strip.dataset.mode = "closed"; };
  }

  if (script.dataset.live === "run") followRun();
  else if (script.dataset.live === "project") followProject();
})();
