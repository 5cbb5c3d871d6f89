// The report's print button (no inline handlers: the pages' Content-Security-Policy forbids them).
(function () {
  "use strict";
  var button = document.getElementById("print");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
}());
