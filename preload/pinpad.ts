import { contextBridge, ipcRenderer } from 'electron';
import { exposePinpadApi } from './pinpad-api';

exposePinpadApi({ contextBridge, ipcRenderer });
