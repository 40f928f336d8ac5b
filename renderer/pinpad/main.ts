import { mount } from 'svelte';
import '../shared/base.css';
import type { Language } from '../../common/domain';
import { loadPadCatalogue } from '../shared/i18n/pad';
import { pinpad } from './api';
import PinPad from './PinPad.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from the PIN pad page');
// The pad's first paint is in the configured language (its texts, one small chunk, load before it) and shows
// main's first state itself: the keypad is usable at mount, without a second round trip to main.
// Should main have refused the preload's early ask, or its answer failed to arrive, the page asks again itself.
const first = await pinpad
  .firstState()
  .catch(() => null)
  .then((early) => (early?.ok ? early : pinpad.getState()));
const firstView = first.ok ? first.value : null;
const firstLanguage: Language = firstView?.language ?? 'en';
mount(PinPad, { target, props: { firstView, firstLanguage, firstCatalogue: await loadPadCatalogue(firstLanguage) } });
