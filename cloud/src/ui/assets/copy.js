// "Copy" buttons: a button with data-copy="<element id>" copies that element's text to the clipboard
// and says so in its own label for a moment. Without this script the text is still there to select.
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute('data-copy') || '');
  if (!source || !navigator.clipboard) return;
  const label = button.textContent;
  navigator.clipboard.writeText(source.textContent || '').then(
    () => {
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = label), 2000);
    },
    () => {
      button.textContent = 'Copy failed: select the text instead';
    },
  );
});
