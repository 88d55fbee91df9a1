// Small enhancements of staff pages; everything works without this file.
// - Copy buttons next to a read-only link (the check-in link page). Without JS the button stays
//   hidden and the link can be selected and copied by hand.
// - A Print button on the brief (without JS, the browser's own Print does the same).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.querySelector("[data-copy-status]");
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) status.textContent = button.getAttribute("data-copied-text");
      }, function () {
        input.select();
      });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
