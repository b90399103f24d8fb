// A modal <dialog> that remembers where focus was and returns it on close
// (WCAG 2.4.3), and moves focus to a chosen control when it opens.

export function createDialog(node) {
  let returnTo = null;
  let cancelHandler = null;

  node.addEventListener('cancel', (ev) => {
    // Escape: let the owner decide what it means.
    if (cancelHandler) {
      ev.preventDefault();
      cancelHandler();
    }
  });
  node.addEventListener('close', () => {
    const target = returnTo;
    returnTo = null;
    if (target && target.isConnected && !target.closest('[hidden]')) target.focus();
  });

  return {
    open(focusTarget) {
      if (node.open) return;
      returnTo = document.activeElement instanceof HTMLElement && document.activeElement !== document.body
        ? document.activeElement : null;
      if (typeof node.showModal === 'function') node.showModal();
      else node.setAttribute('open', '');
      if (focusTarget) focusTarget.focus();
    },
    // close(false) closes without moving focus back (the caller moves it).
    close(restore = true) {
      if (!restore) returnTo = null;
      if (!node.open) return;
      if (typeof node.close === 'function') node.close();
      else {
        node.removeAttribute('open');
        node.dispatchEvent(new Event('close'));
      }
    },
    onCancel(fn) {
      cancelHandler = fn;
    },
    get isOpen() {
      return node.open;
    },
  };
}
