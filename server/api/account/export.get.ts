import { defineEventHandler, setResponseHeaders } from "h3";
import { exportAccount } from "../../auth/account-export.ts";
import { unixNow } from "../../auth/accounts.ts";
import { useDb } from "../../db/database.ts";
import { failSignedOut, markPrivate } from "../../http/respond.ts";

// "Download my data": a JSON file of everything stored about the reader.
export default defineEventHandler(async (event) => {
  markPrivate(event);
  const reader = event.context.user;
  if (!reader) return failSignedOut(event, "Sign in to download your data.");

  const now = unixNow();
  const data = exportAccount(useDb(), reader.id, now);
  if (!data) return failSignedOut(event, "Sign in to download your data.");

  const day = new Date(now * 1000).toISOString().slice(0, 10);
  setResponseHeaders(event, {
    "content-type": "application/json; charset=utf-8",
    "content-disposition": `attachment; filename="tierwall-account-${day}.json"`,
    "x-content-type-options": "nosniff",
  });
  return JSON.stringify(data, null, 2);
});
