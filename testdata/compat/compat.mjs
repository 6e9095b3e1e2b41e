// compat.mjs drives a running council serve with the official OpenAI Node
// SDK, the way an application would. It prints one line per check, "ok
// NAME" or "FAIL NAME: why", and exits 1 when any check failed. The Go test
// TestCompatNodeSDK starts the server, runs this and reads the lines.
//
// usage: COMPAT_BASE_URL=http://127.0.0.1:PORT/v1 node compat.mjs
import OpenAI from 'openai';

const baseURL = process.env.COMPAT_BASE_URL;
if (!baseURL) {
  console.error('COMPAT_BASE_URL is not set');
  process.exit(2);
}
const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user', content: 'How do database indexes work?' }];
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log(`ok ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack.split('\n').slice(0, 3).join(' | ') : err}`);
  }
}

function assert(cond, why) {
  if (!cond) throw new Error(why);
}

// expectError runs fn and checks it throws an instance of cls.
async function expectError(fn, cls, extra) {
  try {
    await fn();
  } catch (err) {
    assert(err instanceof cls, `threw ${err && err.constructor && err.constructor.name}: ${err && err.message}, want ${cls.name}`);
    if (extra) extra(err);
    return err;
  }
  throw new Error(`no error, want ${cls.name}`);
}

// drain reads a stream and returns its text, finish reason and usage chunks.
async function drain(stream) {
  let text = '';
  let finish = null;
  const usage = [];
  for await (const chunk of stream) {
    if (chunk.usage) usage.push(chunk.usage);
    for (const c of chunk.choices) {
      text += c.delta?.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish, usage };
}

let strategies = [];
await check('models.list', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  strategies = ids.filter((id) => /^council\/[a-z]+$/.test(id)).map((id) => id.slice('council/'.length));
  assert(strategies.length >= 5, `strategies ${strategies}`);
  assert(ids.includes('council/race@quick'), `no council/race@quick in ${ids}`);
});

await check('models.retrieve council/race@quick', async () => {
  const m = await client.models.retrieve('council/race@quick');
  assert(m.id === 'council/race@quick', `id ${m.id}`);
});

await check('models.retrieve unknown', () => expectError(() => client.models.retrieve('nope/unknown@x'), OpenAI.NotFoundError));
await check('chat unknown model', () =>
  expectError(() => client.chat.completions.create({ model: 'nope/unknown', messages }), OpenAI.NotFoundError));

for (const s of strategies) {
  const model = `council/${s}`;
  await check(`${s} not streamed`, async () => {
    const c = await client.chat.completions.create({ model, messages, max_tokens: 12 });
    assert(c.choices.length === 1, `${c.choices.length} choices`);
    assert(c.choices[0].message.content.length > 0, 'empty answer');
    assert(['stop', 'length'].includes(c.choices[0].finish_reason), `finish ${c.choices[0].finish_reason}`);
    assert(c.usage && c.usage.completion_tokens > 0, `usage ${JSON.stringify(c.usage)}`);
  });
  await check(`${s} streamed`, async () => {
    const r = await drain(await client.chat.completions.create({ model, messages, max_tokens: 12, stream: true }));
    assert(r.text.length > 0, 'empty answer');
    assert(['stop', 'length'].includes(r.finish), `finish ${r.finish}`);
    assert(r.usage.length === 0, `usage chunk without include_usage: ${JSON.stringify(r.usage)}`);
  });
}

await check('include_usage', async () => {
  const r = await drain(await client.chat.completions.create({
    model: 'council/race', messages, max_tokens: 12, stream: true, stream_options: { include_usage: true },
  }));
  assert(r.usage.length === 1 && r.usage[0].completion_tokens > 0, `usage chunks ${JSON.stringify(r.usage)}`);
});

await check('abort ends the session', async () => {
  const ac = new AbortController();
  // council streams its chairman's answer as it comes: abort mid-answer.
  const stream = await client.chat.completions.create({ model: 'council/council', messages, stream: true }, { signal: ac.signal });
  // The SDK ends the iteration quietly when its own signal aborts it.
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) ac.abort();
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert(ac.signal.aborted && finish === null, `aborted ${ac.signal.aborted}, finish ${finish}`);
  // The server counts the session cancelled once the client is gone.
  const metrics = baseURL.replace(/\/v1$/, '') + '/metrics';
  for (let i = 0; ; i++) {
    const text = await (await fetch(metrics)).text();
    if (text.split('\n').some((l) => l.startsWith('council_sessions_total{') && l.includes('status="cancelled"') && l.includes('strategy="council"'))) break;
    assert(i < 100, 'no cancelled council session on /metrics after 5 s');
    await new Promise((r) => setTimeout(r, 50));
  }
});

await check('json mode', async () => {
  const c = await client.chat.completions.create({ model: 'council/race', messages, response_format: { type: 'json_object' } });
  const obj = JSON.parse(c.choices[0].message.content);
  assert(obj && typeof obj === 'object' && !Array.isArray(obj), `answer ${c.choices[0].message.content}`);
  // A consensus answers a category: JSON mode is refused, naming the parameter.
  await expectError(
    () => client.chat.completions.create({ model: 'council/consensus', messages, response_format: { type: 'json_object' } }),
    OpenAI.BadRequestError,
    (err) => assert(err.status === 400 && err.code === 'unsupported_parameter' && err.param === 'response_format', `${err.status} ${err.code} ${err.param}`),
  );
});

await check('stop', async () => {
  const c = await client.chat.completions.create({ model: 'council/race', messages, stop: [' the '] });
  const text = c.choices[0].message.content;
  assert(c.choices[0].finish_reason === 'stop' && !text.includes(' the '), `finish ${c.choices[0].finish_reason}: ${text}`);
});

// Last: it spends this client's rate limit (the server runs with
// rate_limit_rpm = 60). Refused chat completions still take from it.
await check('429 retried', async () => {
  let err;
  for (let i = 0; i < 200 && !err; i++) {
    try {
      await client.chat.completions.create({ model: 'nope/unknown', messages });
    } catch (e) {
      if (!(e instanceof OpenAI.NotFoundError)) err = e;
    }
  }
  assert(err instanceof OpenAI.RateLimitError, `no 429 after 200 requests: ${err}`);
  assert(Number(err.headers.get('retry-after')) > 0, `retry-after ${err.headers.get('retry-after')}`);
  let calls = 0;
  const retrying = new OpenAI({
    baseURL, apiKey: 'unused', maxRetries: 3,
    fetch: (url, init) => { calls++; return fetch(url, init); },
  });
  const c = await retrying.chat.completions.create({ model: 'council/race', messages, max_tokens: 4 });
  assert(c.choices[0].message.content.length > 0, 'empty answer');
  assert(calls >= 2, `${calls} calls, want a retry`);
});

process.exit(failed ? 1 : 0);
