/**
 * Drives the Stripe emulator's hosted Checkout page the way a browser does:
 * loads the page, fills the card into its form and submits it.
 */

export interface SubmittedForm {
  response: Response;
  html: string;
}

export async function payOnCheckoutPage(
  checkoutUrl: string,
  cardNumber = "4242 4242 4242 4242",
): Promise<Response> {
  return (await openCheckoutPage(checkoutUrl, cardNumber)).submit();
}

/**
 * Loads the hosted page and fills its form, as a tab left open holds it;
 * `submit` posts it whenever the test says, unfollowed.
 */
export async function openCheckoutPage(
  checkoutUrl: string,
  cardNumber = "4242 4242 4242 4242",
): Promise<{ submit(): Promise<Response> }> {
  const page = await fetch(checkoutUrl);
  const html = await page.text();
  const form = parseForm(html, checkoutUrl);

  for (const name of Object.keys(form.fields)) {
    if (/card|number/i.test(name) && !/exp|cvc/i.test(name))
      form.fields[name] = cardNumber;
    else if (/exp/i.test(name)) form.fields[name] = "12 / 34";
    else if (/cvc|cvv/i.test(name)) form.fields[name] = "123";
    else if (/name/i.test(name) && !form.fields[name]) form.fields[name] = "Test Reader";
  }

  const submit = (): Promise<Response> =>
    fetch(form.action, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form.fields),
    });
  return { submit };
}

/** The first POST form of a page, with its action resolved and its input values. */
export function parseForm(
  html: string,
  pageUrl: string,
): { action: string; fields: Record<string, string> } {
  const formMatch = /<form\b[^>]*method=["']?post["']?[^>]*>([\s\S]*?)<\/form>/i.exec(
    html,
  );
  if (!formMatch) throw new Error(`No POST form on ${pageUrl}`);

  const action = /action=["']([^"']*)["']/i.exec(formMatch[0])?.[1] ?? pageUrl;
  const fields: Record<string, string> = {};
  for (const input of formMatch[1]?.matchAll(/<input\b[^>]*>/gi) ?? []) {
    const name = /name=["']([^"']+)["']/i.exec(input[0])?.[1];
    if (!name) continue;
    fields[name] = /value=["']([^"']*)["']/i.exec(input[0])?.[1] ?? "";
  }
  return { action: new URL(action.replaceAll("&amp;", "&"), pageUrl).toString(), fields };
}
