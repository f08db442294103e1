import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ModelFormatError } from '../errors/index.js';
import { syntheticSpmTokenizer } from '../testing/random-model.js';
import { SpmTokenizer } from '../tokenizer/spm-tokenizer.js';
import { TokenType } from '../tokenizer/token-type.js';
import { ChatTemplate, FALLBACK_CHAT_TEMPLATE } from './chat-template.js';

// Templates as published in the models' tokenizer_config.json (trimmed of whitespace-control details only).
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const LLAMA2 =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

/** A tokenizer with ChatML markers as control tokens, to check that special-token text becomes single ids. */
function chatmlTokenizer(): SpmTokenizer {
  const base = syntheticSpmTokenizer(400);
  const pieces: string[] = [];
  const types: number[] = [];
  const scores: number[] = [];
  for (let id = 0; id < base.vocabSize; id++) {
    pieces.push(base.idToToken(id) ?? '');
    types.push(id < 3 ? TokenType.control : id < 259 ? TokenType.byte : TokenType.normal);
    scores.push(id < 259 ? 0 : -id);
  }
  types[0] = TokenType.unknown;
  pieces.push('<|im_start|>', '<|im_end|>');
  types.push(TokenType.control, TokenType.control);
  scores.push(0, 0);
  return new SpmTokenizer({
    pieces,
    scores,
    types,
    special: { unk: 0, bos: 1, eos: 401, eot: 401 },
    addBos: false,
    addEos: false,
    chatTemplate: CHATML,
  });
}

describe('ChatTemplate', () => {
  const messages = [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content: 'Hi there' },
    { role: 'assistant' as const, content: 'Hello!' },
    { role: 'user' as const, content: 'Tell me a story' },
  ];

  it("renders the model's own template (ChatML) and tokenizes its markers as single special ids", () => {
    const tokenizer = chatmlTokenizer();
    const template = new ChatTemplate(tokenizer);
    expect(template.isFallback).toBe(false);
    const { text, ids } = template.render(messages);
    expect(text).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n' +
        '<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nTell me a story<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(ids.filter((id) => id === 400)).toHaveLength(5);
    expect(ids.filter((id) => id === 401)).toHaveLength(4);
    expect(ids[0]).toBe(400); // addBos is false: no BOS is added
    expect(template.renderText(messages, { addGenerationPrompt: false }).endsWith('story<|im_end|>\n')).toBe(true);
  });

  it('passes bos_token / eos_token and raise_exception like Hugging Face (Llama 2 template)', () => {
    const tokenizer = syntheticSpmTokenizer(300);
    const template = new ChatTemplate(tokenizer, { template: LLAMA2 });
    expect(template.renderText(messages)).toBe(
      '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi there [/INST] Hello! </s><s>[INST] Tell me a story [/INST]',
    );
    const { ids } = template.render(messages);
    expect(ids[0]).toBe(1);
    expect(ids[1]).not.toBe(1); // the template wrote BOS; it is not doubled
    expect(ids.filter((id) => id === 1)).toHaveLength(2);
    expect(() =>
      template.render([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    ).toThrow(/roles must alternate/);
  });

  it('falls back to a documented plain-text template, with BOS, EOS after answers and a stop string', () => {
    const tokenizer = syntheticSpmTokenizer(300);
    const template = new ChatTemplate(tokenizer);
    expect(template.isFallback).toBe(true);
    expect(template.source).toBe(FALLBACK_CHAT_TEMPLATE);
    expect(template.stop).toEqual(['\nUser:']);
    expect(template.renderText(messages)).toBe(
      '<s>Be brief.\n\nUser: Hi there\nAssistant: Hello!</s>\nUser: Tell me a story\nAssistant:',
    );
    const { ids } = template.render(messages);
    expect(ids[0]).toBe(1);
    expect(ids.filter((id) => id === 2)).toHaveLength(1);
  });

  it('prepends BOS when the tokenizer wants one and the template writes none', () => {
    const tokenizer = syntheticSpmTokenizer(300); // addBos: true
    const template = new ChatTemplate(tokenizer, { template: '{% for m in messages %}{{ m.content }}{% endfor %}' });
    expect(template.render([{ role: 'user', content: 'hey' }]).ids[0]).toBe(1);
  });

  it('rejects templates that do not parse and malformed messages with typed errors', () => {
    const tokenizer = syntheticSpmTokenizer(300);
    expect(() => new ChatTemplate(tokenizer, { template: '{% for m in messages %}' })).toThrow(ModelFormatError);
    const template = new ChatTemplate(tokenizer);
    expect(() => template.render([{ role: 'robot', content: 'x' } as never])).toThrow(InvalidArgumentError);
    expect(() => template.render([{ role: 'user', content: 3 } as never])).toThrow(/messages\[0\]/);
  });
});
