import { Template } from '@huggingface/jinja';
import { InvalidArgumentError, ModelFormatError } from '../errors/index.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { type ChatMessage, isChatRole } from './chat-message.js';

/**
 * The template used when a model carries none (base models such as stories260K): plain-text turns that any
 * model trained on prose can follow.
 *
 * ```text
 * <bos>{system}\n\nUser: {user}\nAssistant: {assistant}<eos>\nUser: {user}\nAssistant:
 * ```
 *
 * The system prompt (if any) opens the text as a plain paragraph; each finished assistant turn ends with the EOS
 * token so the model learns nothing odd about where answers stop; the generation prompt is `Assistant:`. Because a
 * base model may go on to write the next `User:` line itself, the fallback comes with the stop string `\nUser:`
 * ({@link FALLBACK_CHAT_STOP}).
 */
export const FALLBACK_CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}{{ message['content'] }}\n\n" +
  "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n" +
  "{% else %}Assistant: {{ message['content'] }}{{ eos_token }}\n{% endif %}{% endfor %}" +
  '{% if add_generation_prompt %}Assistant:{% endif %}';

/** Stop strings that go with {@link FALLBACK_CHAT_TEMPLATE}. */
export const FALLBACK_CHAT_STOP: readonly string[] = ['\nUser:'];

export interface ChatTemplateOptions {
  /** A Jinja template to use instead of the model's own (`tokenizer.chatTemplate`). */
  template?: string;
  /** Extra variables passed to the template (e.g. `tools`, `date_string`). */
  variables?: Readonly<Record<string, unknown>>;
}

export interface RenderChatOptions {
  /** End with the text that opens the assistant's turn (HF `add_generation_prompt`). Default true. */
  addGenerationPrompt?: boolean;
}

/** What a rendered conversation turns into: the text and the ids the model evaluates. */
export interface ChatPrompt {
  text: string;
  ids: number[];
}

function tokenText(tokenizer: Tokenizer, id: number | undefined): string {
  return id === undefined ? '' : (tokenizer.idToToken(id) ?? '');
}

/**
 * A chat template compiled once for one tokenizer. Renders like Hugging Face `apply_chat_template`: the variables
 * are `messages`, `bos_token`, `eos_token`, `add_generation_prompt` and the built-ins `raise_exception(msg)` and `strftime_now(fmt)`;
 * the text is then tokenized with special-token text parsed (so `<|im_start|>` becomes its id) and no BOS/EOS added
 * by the tokenizer — the template writes them. Only where the tokenizer asks for BOS and the template did not
 * write one is BOS prepended (llama.cpp does the same), so BOS is never doubled nor missing.
 */
export class ChatTemplate {
  /** The Jinja source in use. */
  readonly source: string;
  /** True when the model had no template and {@link FALLBACK_CHAT_TEMPLATE} is used. */
  readonly isFallback: boolean;
  /** Stop strings the template needs besides the model's EOS / end-of-turn tokens. */
  readonly stop: readonly string[];
  readonly #tokenizer: Tokenizer;
  readonly #template: Template;
  readonly #variables: Readonly<Record<string, unknown>>;

  constructor(tokenizer: Tokenizer, options: ChatTemplateOptions = {}) {
    const own = options.template ?? tokenizer.chatTemplate;
    this.isFallback = own === undefined || own.trim().length === 0;
    this.source = this.isFallback ? FALLBACK_CHAT_TEMPLATE : (own as string);
    this.stop = this.isFallback ? FALLBACK_CHAT_STOP : [];
    this.#tokenizer = tokenizer;
    this.#variables = options.variables ?? {};
    try {
      this.#template = new Template(this.source);
    } catch (error) {
      throw new ModelFormatError(`the chat template does not parse: ${(error as Error).message}`, {
        field: options.template !== undefined ? 'template' : 'tokenizer.chat_template',
        cause: error,
      });
    }
  }

  /** Renders `messages` to text. Throws InvalidArgumentError for malformed messages or when the template raises. */
  renderText(messages: readonly ChatMessage[], options: RenderChatOptions = {}): string {
    messages.forEach((m, i) => {
      if (typeof m !== 'object' || m === null || !isChatRole(m.role) || typeof m.content !== 'string') {
        throw new InvalidArgumentError('each message needs a role (system, user or assistant) and a string content', {
          field: `messages[${i}]`,
          value: m,
        });
      }
    });
    const tokenizer = this.#tokenizer;
    try {
      return this.#template.render({
        ...this.#variables,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        bos_token: tokenText(tokenizer, tokenizer.special.bos),
        eos_token: tokenText(tokenizer, tokenizer.special.eos),
        add_generation_prompt: options.addGenerationPrompt ?? true,
      });
    } catch (error) {
      if (InvalidArgumentError.isInstance(error)) throw error;
      throw new InvalidArgumentError(`the chat template failed to render: ${(error as Error).message}`, {
        field: 'messages',
        cause: error,
      });
    }
  }

  /** Renders and tokenizes `messages`. */
  render(messages: readonly ChatMessage[], options: RenderChatOptions = {}): ChatPrompt {
    const text = this.renderText(messages, options);
    const tokenizer = this.#tokenizer;
    const ids = tokenizer.encode(text, { addSpecialTokens: false, parseSpecialTokens: true });
    const bos = tokenizer.special.bos;
    if (tokenizer.addBos && bos !== undefined && ids[0] !== bos) ids.unshift(bos);
    return { text, ids };
  }
}

/** Compiles the model's chat template (or the fallback). */
export function createChatTemplate(tokenizer: Tokenizer, options?: ChatTemplateOptions): ChatTemplate {
  return new ChatTemplate(tokenizer, options);
}
