import { mount } from 'svelte';
import '../shared/base.css';
import PinPad from './PinPad.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from the PIN pad page');
mount(PinPad, { target });
