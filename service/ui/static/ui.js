/* MHF @home pages: small progressive enhancements. Everything works without this file:
   forms post and redirect back. With it, queue actions happen without leaving the page, and
   the queue refreshes itself every minute unless you are in the middle of typing. */
(function () {
  "use strict";

  var parser = new DOMParser();

  function parse(html) {
    return parser.parseFromString(html, "text/html");
  }

  function swap(doc, selector) {
    var fresh = doc.querySelector(selector);
    var current = document.querySelector(selector);
    if (!fresh || !current) return false;
    current.replaceWith(fresh);
    return true;
  }

  function focusFlash() {
    var flash = document.getElementById("flash");
    if (flash) flash.focus();
  }

  function toLogin(response) {
    if (response.url.indexOf("/ui/login") !== -1) {
      window.location.assign(response.url);
      return true;
    }
    return false;
  }

  /* Forms marked data-enhance: post with fetch, then show the page the server redirected to. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-enhance")) return;
    if (!window.fetch || !window.URLSearchParams) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (response) {
      if (toLogin(response)) return;
      return response.text().then(function (html) {
        var doc = parse(html);
        var ok = swap(doc, "#queue-region");
        if (!ok) {
          var main = doc.querySelector("main");
          if (main) document.querySelector("main").replaceWith(main);
        }
        swap(doc, "#flash-region");
        var url = new URL(response.url);
        url.searchParams.delete("msg");
        window.history.replaceState(null, "", url.pathname + url.search);
        markUpdated();
        focusFlash();
      });
    }).catch(function () {
      form.submit();
    });
  });

  /* The queue refreshes itself, but never under someone's hands. */
  var note = document.querySelector("[data-refresh]");
  if (!note) return;
  var seconds = parseInt(note.getAttribute("data-refresh"), 10) || 60;

  function busy() {
    var region = document.getElementById("queue-region");
    if (!region) return true;
    var active = document.activeElement;
    if (active && active !== document.body && active.closest("form")) return true;
    var typed = Array.prototype.some.call(
      region.querySelectorAll("textarea, input[type=text], select"),
      function (el) { return el.value !== ""; }
    );
    return typed || region.querySelector("details[open]") !== null;
  }

  function markUpdated() {
    var span = document.querySelector("[data-updated]");
    if (span) {
      var now = new Date();
      span.textContent = String(now.getHours()).padStart(2, "0") + ":" +
        String(now.getMinutes()).padStart(2, "0");
    }
  }

  function refresh() {
    if (document.hidden) return;
    if (busy()) {
      note.setAttribute("data-paused", "true");
      return;
    }
    note.removeAttribute("data-paused");
    var before = document.getElementById("queue-region");
    var beforeIds = before ? Array.prototype.map.call(
      before.querySelectorAll("tbody tr"), function (r) { return r.id; }).join(",") : "";
    fetch(window.location.href, { credentials: "same-origin" }).then(function (response) {
      if (toLogin(response)) return;
      if (!response.ok) return;
      return response.text().then(function (html) {
        if (busy()) return;
        var doc = parse(html);
        swap(doc, "#queue-region");
        markUpdated();
        var after = document.getElementById("queue-region");
        var afterIds = after ? Array.prototype.map.call(
          after.querySelectorAll("tbody tr"), function (r) { return r.id; }).join(",") : "";
        if (afterIds !== beforeIds) {
          var announce = document.getElementById("queue-announce");
          if (announce) announce.textContent = "The queue has changed.";
        }
      });
    }).catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(refresh, seconds * 1000);
})();
