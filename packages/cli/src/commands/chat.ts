import { createInterface } from 'node:readline';
import { ChatSession, type GenerationTimings, type Usage } from '@slmkit/core';
import type { CliCommand, CliIo } from '../cli-command.js';
import { openModelFromOptions } from '../open-model.js';
import { modelOptions, numberOption, stringOption } from '../options.js';

const HELP = `commands:
  /reset          forget the conversation (the system prompt stays)
  /system <text>  set the system prompt (empty text removes it); the conversation is kept
  /stats          tokens/s and token counts of the last answer and the session
  /help           this list
  /exit           quit (also Ctrl-D)
Ctrl-C stops the current answer; at the prompt, Ctrl-C twice quits.
`;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface SessionTotals {
  answers: number;
  completionTokens: number;
  promptTokens: number;
  cachedPromptTokens: number;
  decodeMs: number;
}

function statsText(session: ChatSession, totals: SessionTotals, usage?: Usage, t?: GenerationTimings): string {
  const lines: string[] = [];
  if (usage && t) {
    lines.push(
      `last answer: ${usage.completionTokens} tokens, decode ${t.decodeTokensPerSecond.toFixed(1)} tokens/s, ` +
        `prefill ${usage.promptTokens - usage.cachedPromptTokens} new prompt tokens at ${t.prefillTokensPerSecond.toFixed(1)} tokens/s ` +
        `(${usage.cachedPromptTokens} reused from the cache), first token after ${t.timeToFirstTokenMs.toFixed(1)} ms`,
    );
  } else {
    lines.push('no answer yet');
  }
  const rate = totals.decodeMs > 0 ? ((totals.completionTokens - totals.answers) * 1000) / totals.decodeMs : 0;
  lines.push(
    `session: ${totals.answers} answers, ${totals.completionTokens} tokens generated (${rate.toFixed(1)} tokens/s), ` +
      `${session.counters.evaluatedTokens} tokens evaluated, ${session.cachedTokens}/${session.contextSize} context tokens in use`,
  );
  return `${lines.join('\n')}\n`;
}

export const command: CliCommand = {
  name: 'chat',
  summary: 'chat with a model in the terminal (streams answers; /reset, /system, /stats; reads a pipe too)',
  usage: 'slm chat [--model <path>] [--system <text>] [options]',
  options: {
    ...modelOptions,
    system: { type: 'string', description: 'system prompt', valueName: '<text>' },
    'max-tokens': { type: 'string', description: 'longest answer in tokens (default 256)', valueName: '<n>' },
    temperature: { type: 'string', description: '0 = greedy (default 0.8)', valueName: '<t>' },
    'top-p': { type: 'string', description: 'nucleus sampling threshold (default 0.95)', valueName: '<p>' },
    seed: { type: 'string', description: 'sampler seed (default: random)', valueName: '<n>' },
    'chat-template': {
      type: 'string',
      description: "a Jinja chat template to use instead of the model's own",
      valueName: '<jinja>',
    },
  },
  async run(values, _positionals, io) {
    const maxTokens = numberOption(values, 'max-tokens', { integer: true, min: 1 });
    const sampling = {
      temperature: numberOption(values, 'temperature', { min: 0 }),
      topP: numberOption(values, 'top-p', { min: 0, max: 1 }),
      seed: numberOption(values, 'seed', { integer: true, min: 0, max: 2 ** 32 - 1 }),
    };
    const opened = await openModelFromOptions(values, io);
    const session = await ChatSession.create({
      model: opened.model,
      systemPrompt: stringOption(values, 'system'),
      template: stringOption(values, 'chat-template'),
      maxTokens,
      ...sampling,
    });
    try {
      return await chatLoop(session, io);
    } finally {
      await session.dispose();
      await opened.dispose();
    }
  },
};

async function chatLoop(session: ChatSession, io: CliIo): Promise<number> {
  const input = io.stdin as NodeJS.ReadStream;
  const terminal = Boolean(input.isTTY) && io.interactive;
  const rl = createInterface({ input, output: terminal ? io.stderr : undefined, terminal, historySize: 100 });
  const totals: SessionTotals = {
    answers: 0,
    completionTokens: 0,
    promptTokens: 0,
    cachedPromptTokens: 0,
    decodeMs: 0,
  };
  let answering: AbortController | undefined;
  let interruptsAtPrompt = 0;
  let closed = false;
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  rl.on('line', (line) => {
    lines.push(line);
    notify();
  });
  rl.on('close', () => {
    closed = true;
    notify();
  });
  // In a terminal readline turns Ctrl-C into this event: stop the answer, or quit on a second press at the prompt.
  rl.on('SIGINT', () => {
    if (answering) {
      answering.abort(new Error('interrupted'));
      return;
    }
    if (++interruptsAtPrompt >= 2) rl.close();
    else io.stderr.write('\n(Ctrl-C again or /exit to quit)\n');
    if (!closed) rl.prompt();
  });
  // Without a terminal Ctrl-C reaches the process: stop the answer and end the session.
  const onProcessAbort = () => {
    answering?.abort(new Error('interrupted'));
    rl.close();
  };
  io.signal.addEventListener('abort', onProcessAbort, { once: true });
  const nextLine = async (): Promise<string | undefined> => {
    for (;;) {
      if (lines.length > 0) return lines.shift();
      if (closed) return undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };

  if (terminal) {
    io.stderr.write(
      `chatting with ${session.model.spec.name} on ${session.model.info.backend} (${session.template.isFallback ? 'plain-text fallback template' : "the model's chat template"}); /help for commands\n`,
    );
    rl.setPrompt('> ');
    rl.prompt();
  }
  try {
    for (;;) {
      const line = await nextLine();
      if (line === undefined) break;
      interruptsAtPrompt = 0;
      const text = line.trim();
      if (text.length === 0) {
        if (terminal) rl.prompt();
        continue;
      }
      if (text.startsWith('/')) {
        const [cmd, ...rest] = text.split(' ');
        const arg = rest.join(' ').trim();
        if (cmd === '/exit' || cmd === '/quit') break;
        if (cmd === '/reset') {
          session.reset();
          io.stderr.write('(conversation cleared)\n');
        } else if (cmd === '/system') {
          session.setSystemPrompt(arg.length > 0 ? arg : undefined);
          io.stderr.write(arg.length > 0 ? '(system prompt set)\n' : '(system prompt removed)\n');
        } else if (cmd === '/stats') {
          io.stderr.write(statsText(session, totals, session.lastUsage, session.lastTimings));
        } else if (cmd === '/help') {
          io.stderr.write(HELP);
        } else {
          io.stderr.write(`unknown command ${cmd}; /help lists them\n`);
        }
        if (terminal) rl.prompt();
        continue;
      }
      answering = new AbortController();
      let leading = true;
      try {
        for await (const part of session.send(text, { signal: answering.signal })) {
          if (part.type === 'history-trimmed') {
            io.stderr.write(`(context full: dropped the ${part.droppedMessages} oldest messages)\n`);
          } else if (part.type === 'text-delta') {
            const piece = leading ? part.text.trimStart() : part.text;
            if (piece.length > 0) leading = false;
            io.stdout.write(piece);
          } else if (part.type === 'token') {
            await yieldToEventLoop(); // lets Ctrl-C in while a synchronous backend computes
          } else if (part.type === 'finish') {
            totals.answers++;
            totals.completionTokens += part.usage.completionTokens;
            totals.promptTokens += part.usage.promptTokens;
            totals.cachedPromptTokens += part.usage.cachedPromptTokens;
            totals.decodeMs += part.timings.decodeMs;
            io.stdout.write('\n');
            if (part.finishReason === 'abort') io.stderr.write('(stopped)\n');
            else if (part.finishReason === 'context-full') io.stderr.write('(the context window is full)\n');
          }
        }
      } catch (error) {
        io.stderr.write(`error: ${(error as Error).message}\n`);
      } finally {
        answering = undefined;
      }
      if (io.signal.aborted) break;
      if (terminal) rl.prompt();
    }
  } finally {
    io.signal.removeEventListener('abort', onProcessAbort);
    rl.close();
  }
  return 0;
}
