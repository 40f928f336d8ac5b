/**
 * The operator window's texts about audio guidance, in each language. Kept beside the window rather than in the
 * shared catalogue: they are few and used only here.
 */
import type { AudioUnavailableReason } from '../../common/ipc';
import type { Language } from '../../common/domain';

export interface OperatorAudioText {
  readonly checkbox: string;
  readonly unavailable: Readonly<Record<Exclude<AudioUnavailableReason, 'disabled'>, string>>;
  readonly onWarning: string;
}

export const OPERATOR_AUDIO_TEXT: Readonly<Record<Language, OperatorAudioText>> = {
  en: {
    checkbox: 'Audio guidance for the cardholder',
    unavailable: {
      'no-device': 'Audio guidance is unavailable: no audio output is set for the PIN pad (pad.audio.outputDevice).',
      'voice-folder-missing': "Audio guidance is unavailable: the bank's voice folder (pad.audio.voiceFolder) does not exist or is not a folder.",
      'device-absent': "Audio guidance is unavailable: the PIN pad's headphones or handset are not connected.",
    },
    onWarning: 'Audio guidance is on: the PIN pad takes keyboard input while it has focus. Do not type on this keyboard until the cardholder has finished.',
  },
  ru: {
    checkbox: 'Голосовые подсказки для держателя карты',
    unavailable: {
      'no-device': 'Голосовые подсказки недоступны: для PIN-клавиатуры не задан аудиовыход (pad.audio.outputDevice).',
      'voice-folder-missing': 'Голосовые подсказки недоступны: папка с записями банка (pad.audio.voiceFolder) не существует или не является папкой.',
      'device-absent': 'Голосовые подсказки недоступны: наушники или трубка PIN-клавиатуры не подключены.',
    },
    onWarning:
      'Голосовые подсказки включены: PIN-клавиатура принимает ввод с клавиатуры, пока она в фокусе. Не печатайте на этой клавиатуре, пока держатель карты не закончит.',
  },
  kk: {
    checkbox: 'Карта ұстаушыға дауыстық нұсқаулық',
    unavailable: {
      'no-device': 'Дауыстық нұсқаулық қолжетімсіз: PIN-пернетақта үшін дыбыс шығысы берілмеген (pad.audio.outputDevice).',
      'voice-folder-missing': 'Дауыстық нұсқаулық қолжетімсіз: банк жазбаларының қалтасы (pad.audio.voiceFolder) жоқ немесе қалта емес.',
      'device-absent': 'Дауыстық нұсқаулық қолжетімсіз: PIN-пернетақтаның құлаққаптары немесе тұтқасы қосылмаған.',
    },
    onWarning:
      'Дауыстық нұсқаулық қосулы: PIN-пернетақта фокуста тұрғанда пернетақтадан енгізуді қабылдайды. Карта ұстаушы аяқтағанша бұл пернетақтада теруге болмайды.',
  },
};
