// Hash routes (/console/#/users/…): the server serves one page at
// /console, and a reload or a shared link lands on the same view.
import { createRouter, createWebHashHistory } from 'vue-router';
import { session } from './session';
import Audit from './pages/Audit.vue';
import Health from './pages/Health.vue';
import Jobs from './pages/Jobs.vue';
import Moderation from './pages/Moderation.vue';
import SignIn from './pages/SignIn.vue';
import User from './pages/User.vue';
import Users from './pages/Users.vue';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/users' },
    { path: '/sign-in', name: 'sign-in', component: SignIn, meta: { public: true } },
    { path: '/users', name: 'users', component: Users },
    { path: '/users/:id', name: 'user', component: User, props: true },
    { path: '/moderation', name: 'moderation', component: Moderation },
    { path: '/jobs', name: 'jobs', component: Jobs },
    { path: '/health', name: 'health', component: Health },
    { path: '/audit', name: 'audit', component: Audit },
    { path: '/:rest(.*)*', redirect: '/users' },
  ],
});

// Every view but sign-in needs a session: the first visit tries the
// refresh cookie (a reload keeps the operator signed in without a token
// in storage), then sends whoever has none to sign in.
router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (await session.ensure()) return true;
  return { name: 'sign-in', query: to.fullPath !== '/users' ? { next: to.fullPath } : {} };
});
