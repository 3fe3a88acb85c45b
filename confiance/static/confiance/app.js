// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The language selector submits itself; its button stays for keyboard and no-script use.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
  // Copy fields select their whole value on focus, ready for Ctrl+C.
  for (const field of document.querySelectorAll("input.copy-field")) {
    field.addEventListener("focus", () => field.select());
  }
});
