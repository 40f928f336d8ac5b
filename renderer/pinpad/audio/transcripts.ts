/**
 * What each cue says, in each language: the source text of the clips (scripts/make-voice-clips.ts) and of a
 * bank's own recordings. Numbers in a transcript are counts (length, digits entered), never a digit of a PIN.
 * Not used by the pad at run time: it plays the clips.
 */
import { type Language, PIN_MAX_LENGTH, PIN_MIN_LENGTH } from '../../../common/domain';
import { FIXED_CUES, type FixedCue } from '../../../common/voice-cues';

interface LanguageTranscripts {
  readonly promptExact: (length: number) => string;
  readonly promptRange: (min: number, max: number) => string;
  readonly countOf: (count: number, length: number) => string;
  readonly count: (count: number) => string;
  readonly fixed: Readonly<Record<FixedCue, string>>;
}

const TRANSCRIPTS: Readonly<Record<Language, LanguageTranscripts>> = {
  en: {
    promptExact: (n) =>
      `Audio guidance. Enter your new PIN, ${n} digits, then press OK. On the screen, OK is the bottom right key and Clear the bottom left. On a keypad, OK is Enter.`,
    promptRange: (min, max) =>
      `Audio guidance. Enter your new PIN, ${min} to ${max} digits, then press OK. On the screen, OK is the bottom right key and Clear the bottom left. On a keypad, OK is Enter.`,
    countOf: (k, n) => `${k} of ${n} digits.`,
    count: (k) => `${k} digits.`,
    fixed: {
      erased: 'One digit erased.',
      cleared: 'All digits cleared.',
      'too-short': 'Too short. Enter more digits, then press OK.',
      'too-long': 'No more digits. Press OK.',
      confirm: 'Enter the same PIN again to confirm, then press OK.',
      mismatch: 'The two PINs did not match. Enter the PIN again to confirm.',
      'mismatch-restart': 'The PINs did not match several times. Start again with a new PIN.',
      'weak-repeated': 'A PIN cannot be one digit repeated. Choose another PIN.',
      'weak-sequence': 'A PIN cannot be a run of consecutive digits. Choose another PIN.',
      'weak-denied': 'This PIN is too easy to guess. Choose another PIN.',
      'ten-seconds': 'Ten seconds left.',
      sent: 'Your PIN is being sent.',
      set: 'Your PIN is set. Thank you.',
      failed: 'The PIN was not set. Please ask the staff.',
      cancelled: 'PIN entry cancelled.',
      timeout: 'Time is up. Nothing was sent.',
    },
  },
  ru: {
    promptExact: (n) =>
      `Голосовые подсказки. Введите новый ПИН-код, цифр: ${n}, и нажмите OK. На экране OK — правая нижняя клавиша, Сброс — левая нижняя. На клавиатуре OK — это Enter.`,
    promptRange: (min, max) =>
      `Голосовые подсказки. Введите новый ПИН-код, от ${min} до ${max} цифр, и нажмите OK. На экране OK — правая нижняя клавиша, Сброс — левая нижняя. На клавиатуре OK — это Enter.`,
    countOf: (k, n) => `${k} из ${n}.`,
    count: (k) => `Цифр: ${k}.`,
    fixed: {
      erased: 'Одна цифра стёрта.',
      cleared: 'Все цифры стёрты.',
      'too-short': 'Слишком коротко. Введите ещё цифры и нажмите OK.',
      'too-long': 'Больше цифр ввести нельзя. Нажмите OK.',
      confirm: 'Введите тот же ПИН-код ещё раз для подтверждения и нажмите OK.',
      mismatch: 'ПИН-коды не совпали. Введите ПИН-код ещё раз для подтверждения.',
      'mismatch-restart': 'ПИН-коды не совпали несколько раз. Начните заново с новым ПИН-кодом.',
      'weak-repeated': 'ПИН-код не может состоять из одной повторяющейся цифры. Выберите другой.',
      'weak-sequence': 'ПИН-код не может быть последовательностью цифр подряд. Выберите другой.',
      'weak-denied': 'Этот ПИН-код слишком легко угадать. Выберите другой.',
      'ten-seconds': 'Осталось десять секунд.',
      sent: 'ПИН-код отправляется.',
      set: 'ПИН-код установлен. Спасибо.',
      failed: 'ПИН-код не установлен. Обратитесь к сотруднику.',
      cancelled: 'Ввод ПИН-кода отменён.',
      timeout: 'Время вышло. Ничего не отправлено.',
    },
  },
  kk: {
    promptExact: (n) =>
      `Дауыстық нұсқаулық. Жаңа PIN-кодты енгізіңіз, таңба саны: ${n}, содан кейін OK басыңыз. Экранда OK — төменгі оң жақ перне, Тазалау — төменгі сол жақ. Пернетақтада OK — Enter.`,
    promptRange: (min, max) =>
      `Дауыстық нұсқаулық. Жаңа PIN-кодты енгізіңіз, ${min} мен ${max} аралығында таңба, содан кейін OK басыңыз. Экранда OK — төменгі оң жақ перне, Тазалау — төменгі сол жақ. Пернетақтада OK — Enter.`,
    countOf: (k, n) => `${n} таңбаның ${k}.`,
    count: (k) => `Таңба саны: ${k}.`,
    fixed: {
      erased: 'Бір таңба өшірілді.',
      cleared: 'Барлық таңба өшірілді.',
      'too-short': 'Тым қысқа. Тағы таңба енгізіп, OK басыңыз.',
      'too-long': 'Бұдан артық таңба енгізуге болмайды. OK басыңыз.',
      confirm: 'Растау үшін сол PIN-кодты қайта енгізіп, OK басыңыз.',
      mismatch: 'PIN-кодтар сәйкес келмеді. Растау үшін PIN-кодты қайта енгізіңіз.',
      'mismatch-restart': 'PIN-кодтар бірнеше рет сәйкес келмеді. Жаңа PIN-кодпен қайта бастаңыз.',
      'weak-repeated': 'PIN-код бір қайталанған таңбадан тұра алмайды. Басқасын таңдаңыз.',
      'weak-sequence': 'PIN-код қатарынан келетін таңбалар бола алмайды. Басқасын таңдаңыз.',
      'weak-denied': 'Бұл PIN-кодты табу тым оңай. Басқасын таңдаңыз.',
      'ten-seconds': 'Он секунд қалды.',
      sent: 'PIN-код жіберілуде.',
      set: 'PIN-код орнатылды. Рақмет.',
      failed: 'PIN-код орнатылмады. Қызметкерге хабарласыңыз.',
      cancelled: 'PIN-код енгізу тоқтатылды.',
      timeout: 'Уақыт бітті. Ештеңе жіберілмеді.',
    },
  },
};

/** The text of `cue` in `language`, or null for a cue name that does not exist. */
export function transcript(cue: string, language: Language): string | null {
  const text = TRANSCRIPTS[language];
  if ((FIXED_CUES as readonly string[]).includes(cue)) return text.fixed[cue as FixedCue];
  const inRange = (...numbers: number[]) => numbers.every((n) => n >= 1 && n <= PIN_MAX_LENGTH);
  let match = /^prompt-exact-(\d+)$/.exec(cue);
  if (match) return Number(match[1]) >= PIN_MIN_LENGTH && inRange(Number(match[1])) ? text.promptExact(Number(match[1])) : null;
  match = /^prompt-range-(\d+)-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1]), Number(match[2])) ? text.promptRange(Number(match[1]), Number(match[2])) : null;
  match = /^count-(\d+)-of-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1]), Number(match[2])) ? text.countOf(Number(match[1]), Number(match[2])) : null;
  match = /^count-(\d+)$/.exec(cue);
  if (match) return inRange(Number(match[1])) ? text.count(Number(match[1])) : null;
  return null;
}
