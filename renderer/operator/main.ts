import { mount } from 'svelte';
import '../shared/base.css';
import './forms.css';
import type { Language } from '../../common/domain';
import { loadCatalogue } from '../shared/i18n';
import { station } from './api';
import Operator from './Operator.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from the operator page');
// The first paint is in the configured language: its texts (one chunk) load before it.
const first = await station.getState();
const firstLanguage: Language = first.ok ? first.value.language : 'en';
mount(Operator, { target, props: { firstLanguage, firstCatalogue: await loadCatalogue(firstLanguage) } });
