import type { PadCatalogue } from '../catalogue';

export const kk: PadCatalogue = {
  pad: {
    enterTitle: 'Жаңа PIN‑кодты енгізіңіз',
    confirmTitle: 'PIN‑кодты қайталап енгізіңіз',
    lengthExact: { other: '{n} цифр' },
    lengthRange: '{min}–{max} цифр',
    digitsEntered: { other: '{n} цифр енгізілді' },
    waitTitle: 'Күте тұрыңыз',
    waitBody: 'PIN‑код енгізуді банк қызметкері іске қосады.',
    erase: 'Өшіру',
    clear: 'Тазарту',
    ok: 'ОК',
    cancel: 'Бас тарту',
    secondsLeft: '{s} с қалды',
    language: 'Тіл',
    audioOn: 'Дауыстық нұсқаулық қосулы',
  },
  errors: {
    INVALID_REQUEST: 'Сұрау түсініксіз.',
    NO_SESSION: 'PIN‑кодты енгізу басталмаған.',
    PIN_TOO_SHORT: 'PIN‑код тым қысқа.',
    PIN_TOO_LONG: 'Бұдан артық цифр енгізуге болмайды.',
    PIN_MISMATCH: 'PIN‑кодтар сәйкес келмеді. PIN‑кодты қайталап енгізіңіз.',
    PIN_MISMATCH_LIMIT: 'PIN‑кодтар бірнеше рет сәйкес келмеді. Жаңа PIN‑кодпен қайта бастаңыз.',
    PIN_REPEATED: 'PIN‑код бірдей цифрлардан тұра алмайды. Басқасын таңдаңыз.',
    PIN_SEQUENCE: 'PIN‑код өсу немесе кему ретімен қатар келген цифрлардан тұра алмайды. Басқасын таңдаңыз.',
    PIN_DENIED: 'Бұл PIN‑кодты табу тым оңай. Басқасын таңдаңыз.',
    PIN_CANCELLED: 'PIN‑кодты енгізу тоқтатылды.',
    PIN_TIMEOUT: 'PIN‑кодты енгізу уақыты бітті. Ештеңе жіберілмеді.',
    INTERNAL: 'Ішкі қате. Ештеңе жіберілмеді.',
  },
};
