/**
 * Renderer entry: one store, one client over window.ehr, the App. The document title is fixed and
 * never names a patient (it shows in the taskbar, the window switcher and screen recordings).
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { AppProvider } from './app/app-context';
import { ehr } from './client/ehr-client';
import { createEhrStore } from './state/store';
import './styles/app.css';

document.title = 'Clinic EHR';
const ctx = { client: ehr(), store: createEhrStore() };
const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <AppProvider ctx={ctx}>
      <App />
    </AppProvider>
  </StrictMode>,
);
