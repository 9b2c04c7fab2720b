// The web interview's only script; every page works without it. It adds the Esc key for the
// quick exit (the button is a plain link without it) and replaces the page in the tab's
// history, so Back does not lead to it; and it puts the focus on an error summary.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function leave(event) {
    if (event) { event.preventDefault(); }
    window.location.replace("/web/exit");
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" || event.key === "Esc") { leave(event); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var exit = document.getElementById("quick-exit");
    if (exit) { exit.addEventListener("click", leave); }
    var summary = document.querySelector(".error-summary");
    if (summary) { summary.focus(); }
  });
}());
