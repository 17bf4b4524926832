import '@mantine/core/styles.css';
import '@mantine/dates/styles.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { Providers } from './app/Providers';
import { pickClient } from './app/client/pick-client';
import { startLiveUpdates } from './app/live-updates';
import { theme } from './app/theme';
import { adoptThemeVariables } from './app/theme-variables';

adoptThemeVariables(theme);
startLiveUpdates(pickClient());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Providers>
      <App />
    </Providers>
  </StrictMode>,
);
