import { mount } from 'svelte';
import '../shared/base.css';
import './forms.css';
import Operator from './Operator.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('#app is missing from the operator page');
mount(Operator, { target });
