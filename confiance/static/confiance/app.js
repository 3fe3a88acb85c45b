// Small progressive enhancements; every page works without them.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // The language selector submits itself; its button stays for no-script use only.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
    const button = select.form.querySelector("[data-autosubmit-button]");
    if (button) button.hidden = true;
  }
  // Copy fields select their whole value on focus, ready for Ctrl+C.
  for (const field of document.querySelectorAll("input.copy-field")) {
    field.addEventListener("focus", () => field.select());
  }
  // A copy button copies the value of the field it names and says so.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    const status = document.getElementById(button.dataset.copyStatus);
    button.hidden = false;
    button.addEventListener("click", async () => {
      field.select();
      let copied = false;
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch {
        copied = document.execCommand && document.execCommand("copy");
      }
      if (status) status.textContent = copied ? button.dataset.copied : button.dataset.copyFailed;
    });
  }
  // Phones: the main menu folds behind one button (the whole menu shows without script).
  const toggle = document.querySelector(".menu-toggle");
  const menu = document.getElementById("site-menu");
  if (toggle && menu) {
    toggle.addEventListener("click", () => {
      const open = menu.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
});
