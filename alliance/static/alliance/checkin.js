// Check-in pages: small enhancements only. Everything works without this file.
//
// 1. Drafts: every answer is copied to sessionStorage as it is given, and restored if the page is
//    reloaded or re-opened in the same tab (a dropped connection, an accidental back). Drafts are
//    cleared once the server has confirmed the answers are saved (pages marked data-clear-drafts).
// 2. The submit button says it is sending and ignores a second press (the server is idempotent anyway).
(function () {
  "use strict";
  var prefix = "alliance-draft:" + location.pathname.split("/").slice(0, 3).join("/") + ":";

  function storage() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function restore(form, key) {
    var store = storage();
    if (!store) return;
    var saved;
    try { saved = JSON.parse(store.getItem(key) || "{}"); } catch (e) { saved = {}; }
    Object.keys(saved).forEach(function (name) {
      var fields = form.elements.namedItem(name);
      if (!fields) return;
      if (fields instanceof RadioNodeList || (fields.length && fields[0] && fields[0].type === "radio")) {
        var anyChecked = Array.prototype.some.call(fields, function (f) { return f.checked; });
        if (anyChecked) return; // the server's copy wins
        Array.prototype.forEach.call(fields, function (f) { if (f.value === saved[name]) f.checked = true; });
      } else if (fields.type === "checkbox") {
        if (!fields.checked) fields.checked = saved[name] === "on";
      } else if (fields.tagName === "TEXTAREA" || fields.type === "text") {
        if (!fields.value) fields.value = saved[name];
      }
    });
  }

  function save(form, key) {
    var store = storage();
    if (!store) return;
    var data = {};
    Array.prototype.forEach.call(form.elements, function (f) {
      if (!f.name || f.type === "hidden" || f.name === "csrfmiddlewaretoken") return;
      if (f.type === "radio") { if (f.checked) data[f.name] = f.value; }
      else if (f.type === "checkbox") { if (f.checked) data[f.name] = "on"; }
      else if (f.value) { data[f.name] = f.value; }
    });
    try { store.setItem(key, JSON.stringify(data)); } catch (e) { /* storage full or blocked */ }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    if (document.querySelector("[data-clear-drafts]") && store) {
      Object.keys(store).forEach(function (k) { if (k.indexOf(prefix) === 0) store.removeItem(k); });
    }
    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-key]"), function (form) {
      var key = prefix + form.getAttribute("data-draft-key");
      restore(form, key);
      form.addEventListener("change", function () { save(form, key); });
      form.addEventListener("input", function () { save(form, key); });
      form.addEventListener("submit", function (event) {
        var button = form.querySelector("button[type=submit]");
        if (form.getAttribute("data-sending") === "1") { event.preventDefault(); return; }
        form.setAttribute("data-sending", "1");
        if (button && button.getAttribute("data-busy-label")) {
          button.textContent = button.getAttribute("data-busy-label");
          button.setAttribute("aria-disabled", "true");
        }
        // If the network fails the page stays, so allow another try after a while.
        setTimeout(function () { form.removeAttribute("data-sending"); }, 8000);
      });
    });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  });
})();
