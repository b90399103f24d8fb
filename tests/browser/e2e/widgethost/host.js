// A Matrix client's widget host, as Element Web embeds room widgets: the
// REAL ClientWidgetApi of matrix-widget-api (served as its UMD bundle,
// global mxwidgets) drives the widget in an iframe. The driver approves
// whatever capabilities the widget asks for and answers get_openid with
// the OpenID token the test obtained from the homeserver (or a forged
// one). Used by e2e/ticketwidget.mjs.
/* global mxwidgets */
window.openWidget = function openWidget({ widget, roomId, userId, lang, token }) {
  const w = new mxwidgets.Widget(widget);
  const url = w.getCompleteUrl({ widgetRoomId: roomId, currentUserId: userId, clientLanguage: lang, clientTheme: 'light', clientId: 'test.host' });
  class Driver extends mxwidgets.WidgetDriver {
    validateCapabilities(requested) {
      window.requestedCapabilities = Array.from(requested);
      return Promise.resolve(requested);
    }

    askOpenID(observer) {
      window.openIdAsked = (window.openIdAsked || 0) + 1;
      observer.update({ state: mxwidgets.OpenIDRequestState.Allowed, token });
    }
  }
  const iframe = document.createElement('iframe');
  iframe.title = widget.name;
  // As Element Web grants its widgets (the video page needs them).
  iframe.allow = 'camera; microphone; display-capture; autoplay';
  iframe.width = '600';
  iframe.height = '900';
  document.querySelector('main').append(iframe);
  const api = new mxwidgets.ClientWidgetApi(w, iframe, new Driver());
  window.widgetReady = false;
  api.on('ready', () => { window.widgetReady = true; });
  iframe.src = url;
  return url;
};
