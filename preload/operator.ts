import { contextBridge, ipcRenderer } from 'electron';
import { exposeStationApi } from './operator-api';

exposeStationApi({ contextBridge, ipcRenderer });
