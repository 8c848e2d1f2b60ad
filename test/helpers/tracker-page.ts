// The local tracker's page as a browser uses it: log in with the token through the form, keep the
// session cookie, read the CSRF token from the page, and press its buttons.

export interface PageSession {
  /** `vigil_session=...`, as a browser sends it back. */
  cookie: string;
  /** The `Set-Cookie` header the login answered with. */
  setCookie: string;
  csrf: string;
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  redirect: 'manual' as const,
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

export const postLogin = (url: string, token: string) => fetch(`${url}/login`, form({ token }));

export async function logIn(url: string, token: string): Promise<PageSession> {
  const login = await postLogin(url, token);
  const [setCookie] = login.headers.getSetCookie();
  if (login.status !== 303 || !setCookie) throw new Error(`login answered ${login.status}`);
  const cookie = setCookie.split(';')[0]!;
  const page = await fetch(`${url}/issues`, { headers: { cookie }, redirect: 'manual' });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error(`no CSRF token on the page (it answered ${page.status})`);
  return { cookie, setCookie, csrf };
}

/** A form post to the page's buttons; `fields` beyond the action (the CSRF token) and `headers` as given. */
export function pressButton(url: string, number: number, action: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const request = form({ action, ...fields });
  return fetch(`${url}/issues/${number}/actions`, { ...request, headers: { ...request.headers, ...headers } });
}

/** The same post as a logged-in page makes it. */
export const pressAsPage = (url: string, session: PageSession, number: number, action: string) =>
  pressButton(url, number, action, { csrf: session.csrf }, { cookie: session.cookie });

/** The page's comment form, posted as the logged-in page posts it. */
export function commentAsPage(url: string, session: PageSession, number: number, body: string) {
  const request = form({ body, csrf: session.csrf });
  return fetch(`${url}/issues/${number}/comments`, { ...request, headers: { ...request.headers, cookie: session.cookie } });
}

/** A comment through the API, with a person's own token as the bearer. */
export const postComment = (url: string, token: string, number: number, body: string) =>
  fetch(`${url}/v1/issues/${number}/comments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
