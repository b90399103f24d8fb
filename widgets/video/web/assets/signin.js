// The page's sign-in outside a widget host: the staff member opened the
// link from a client without widgets (Element X, …) or a bookmark. They
// sign in at their own homeserver with SSO or a password (kit/matrixlogin.js);
// the page gets an OpenID token and signs in at rathaus with it, exactly
// as inside a widget host.
import { $, el, show, showError, clearError, placeError } from './kit/dom.js';
import { t } from './kit/i18n.js';
import { ApiError } from './kit/api.js';
import * as login from './kit/matrixlogin.js';
import { errorText } from './kit/widgetsession.js';

// where asks rathaus where staff sign in; ApiError no_client when
// nowhere (then only a widget host will do).
async function where(request) {
  try {
    return (await request('GET', 'signin')).homeserver_url;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new ApiError(0, 'no_client', 'no sign-in outside a widget host');
    throw err;
  }
}

// signInStandalone resolves with an OpenID token once the member has
// signed in at their homeserver; it throws when signing in is impossible
// here. request is the page's API call (widgetsession's).
export async function signInStandalone(request) {
  const hs = await where(request);
  const loginToken = login.takeLoginToken();
  const section = $('signin');
  let firstError = null;
  if (loginToken) {
    // Back from SSO.
    try {
      return await login.openIDWithLoginToken(hs, loginToken);
    } catch (err) {
      firstError = err;
    }
  }
  const flows = await login.loginFlows(hs);
  if (!flows.password && !flows.sso) throw new ApiError(0, 'no_login_flow', 'no usable login flow');

  show($('progress'), false);
  show(section, true);
  placeError(section);
  document.body.dataset.state = 'signin';
  if (firstError) showError(errorText(firstError));

  if (flows.sso) {
    // Back to this page without any token the address may carry.
    const back = new URL(location.href);
    back.searchParams.delete('loginToken');
    const providers = flows.providers.length ? flows.providers : [{ id: '', name: '' }];
    $('signin-sso').replaceChildren(...providers.map((p) => {
      const b = el('button', {
        class: 'button primary', text: p.name ? t('signin.sso_provider', { name: p.name }) : t('signin.sso'),
        attrs: { type: 'button' },
      });
      b.addEventListener('click', () => location.assign(login.ssoURL(hs, back.toString(), p.id)));
      return b;
    }));
    show($('signin-sso'), true);
  }
  $('signin-heading').focus();
  if (!flows.password) return new Promise(() => {}); // SSO leaves the page

  show($('signin-form'), true);
  return new Promise((resolve) => {
    const form = $('signin-form');
    const submit = $('signin-submit');
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearError();
      const user = $('signin-user').value.trim();
      const password = $('signin-password').value;
      if (!user || !password) {
        showError(t('signin.missing'));
        (user ? $('signin-password') : $('signin-user')).focus();
        return;
      }
      submit.disabled = true;
      submit.textContent = t('signin.busy');
      try {
        const token = await login.openIDWithPassword(hs, user, password);
        $('signin-password').value = '';
        section.before($('error')); // back where the call's errors show
        show(section, false);
        show($('progress'), true);
        resolve(token);
      } catch (err) {
        showError(errorText(err));
        $('signin-password').value = '';
        $('signin-password').focus();
      } finally {
        submit.disabled = false;
        submit.textContent = t('signin.submit');
      }
    });
  });
}
