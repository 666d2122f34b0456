import { createApp } from 'vue';
import App from './App.vue';
import { applyLang } from './i18n';
import { router } from './router';
import './style.css';

applyLang();
createApp(App).use(router).mount('#app');
