// Small helps for every page; each page works without them.
(function () {
  "use strict";
  // A form sent back with errors is shown at the address it was sent to: make that history
  // entry an ordinary one, so Back or a reload never asks to send the form again (a visit
  // to a form's address leads to the form's page).
  if (document.querySelector('form [aria-invalid="true"], main .alert[role="alert"]') && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.href);
  }
  // A file chosen for a text area (an attendance CSV): its text goes into the area.
  document.querySelectorAll("input[type=file][data-read-into]").forEach(function (input) {
    input.addEventListener("change", function () {
      var area = document.getElementById(input.getAttribute("data-read-into"));
      var file = input.files && input.files[0];
      if (!area || !file || !window.FileReader) { return; }
      var reader = new FileReader();
      reader.onload = function () { area.value = String(reader.result || ""); };
      reader.readAsText(file);
    });
  });
  // "Copy" buttons: copy the named field's text. Without script the field is there to select.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        var status = document.getElementById(button.getAttribute("data-copy") + "-copied");
        if (status) { status.textContent = "Copied."; }
      });
    });
  });
})();
