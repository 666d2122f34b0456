// The console's words in English and Chinese: one typed dictionary, so a
// key missing in either language fails the build. The language starts
// from the browser's (navigator.language) and the header's switch changes
// it; the choice is kept for the next visit.
import { computed, ref } from 'vue';

const en = {
  'app.title': 'miniback console',
  'app.skip': 'Skip to content',
  'nav.label': 'Sections',
  'nav.users': 'Users',
  'nav.moderation': 'Moderation',
  'nav.jobs': 'Jobs',
  'nav.health': 'Health',
  'nav.audit': 'Audit log',
  'lang.label': 'Language',
  'signout': 'Sign out',
  'signin.title': 'Sign in',
  'signin.intro': 'Sign in with the password account of an administrator.',
  'signin.login': 'Username or email',
  'signin.password': 'Password',
  'signin.submit': 'Sign in',
  'signin.busy': 'Signing in…',
  'signin.expired': 'Your session ended: sign in again.',
  'common.loading': 'Loading…',
  'common.none': 'Nothing here.',
  'common.next': 'Next page',
  'common.first': 'First page',
  'common.refresh': 'Refresh',
  'common.yes': 'yes',
  'common.no': 'no',
  'common.any': 'Any',
  'common.search': 'Search',
  'common.done': 'Done.',
  'common.back': 'Back to users',
  'common.request': 'request',
  'users.title': 'Users',
  'users.query': 'Nickname, username, email, phone or id',
  'users.role': 'Role',
  'users.appid': 'AppID',
  'users.nickname': 'Nickname',
  'users.login': 'Login',
  'users.created': 'Created',
  'users.status': 'Status',
  'users.open': 'Open',
  'role.user': 'user',
  'role.admin': 'admin',
  'user.title': 'User',
  'user.profile': 'Profile',
  'user.id': 'Id',
  'user.bio': 'Bio',
  'user.phone': 'Phone',
  'user.username': 'Username',
  'user.email': 'Email',
  'user.tasks': 'Tasks',
  'user.disabled': 'disabled',
  'user.active': 'active',
  'user.methods': 'Login methods',
  'user.sessions': 'Sessions',
  'user.uploads': 'Uploads',
  'user.actions': 'Actions',
  'user.disable': 'Disable user',
  'user.enable': 'Enable user',
  'user.grant': 'Make admin',
  'user.revoke': 'Revoke admin',
  'user.endAll': 'End all sessions',
  'user.end': 'End',
  'user.confirmDisable': 'Disable this user? Their sessions end and they cannot sign in.',
  'user.confirmEndAll': 'End every session of this user?',
  'session.created': 'Started',
  'session.lastUsed': 'Last used',
  'session.expires': 'Expires',
  'session.client': 'Client',
  'upload.purpose': 'Purpose',
  'upload.type': 'Type',
  'upload.size': 'Size',
  'upload.status': 'Status',
  'moderation.title': 'Moderation',
  'moderation.status': 'Status',
  'moderation.content': 'Content',
  'moderation.subject': 'Subject',
  'moderation.verdict': 'Verdict',
  'moderation.created': 'Flagged',
  'moderation.approve': 'Approve',
  'moderation.remove': 'Remove',
  'moderation.pending': 'pending',
  'moderation.cleared': 'cleared',
  'moderation.open': 'open',
  'moderation.approved': 'approved',
  'moderation.removed': 'removed',
  'jobs.title': 'Jobs',
  'jobs.unavailable': 'This server has no job queue to show.',
  'jobs.counts': 'Jobs by state',
  'jobs.failures': 'Recent failures',
  'jobs.kind': 'Kind',
  'jobs.state': 'State',
  'jobs.attempts': 'Attempts',
  'jobs.error': 'Last error',
  'jobs.retry': 'Retry',
  'jobs.cancel': 'Cancel',
  'health.title': 'Health',
  'health.ready': 'Ready',
  'health.version': 'Version',
  'health.database': 'Database',
  'health.wechat': 'WeChat',
  'health.metrics': 'Key figures',
  'health.checked': 'Checked',
  'health.uptime': 'Uptime',
  'health.ping': 'Ping',
  'health.pool': 'Connections (in use / open / max)',
  'health.token': 'Access token',
  'health.tokenFresh': 'fresh',
  'health.tokenStale': 'stale',
  'health.tokenNone': 'none yet',
  'health.breakers': 'Circuit breakers',
  'health.lastErrcode': 'Last errcode',
  'health.goroutines': 'Goroutines',
  'health.inFlight': 'Requests in flight',
  'health.heap': 'Heap',
  'health.rateStore': 'Rate limits',
  'health.failingOpen': 'failing open',
  'health.jobs': 'Jobs by state',
  'health.ok': 'ok',
  'health.down': 'down',
  'health.noApps': 'No mini-program configured.',
  'audit.title': 'Audit log',
  'audit.when': 'When',
  'audit.who': 'Who',
  'audit.action': 'Action',
  'audit.target': 'Target',
  'audit.from': 'From',
  'error.title': 'Something went wrong',
  'error.forbidden': 'This account is not an administrator.',
  'error.credentials': 'Wrong login or password.',
  'error.network': 'The server cannot be reached.',
} as const;

export type Key = keyof typeof en;
export type Lang = 'en' | 'zh';

const zh: Record<Key, string> = {
  'app.title': 'miniback 控制台',
  'app.skip': '跳到正文',
  'nav.label': '栏目',
  'nav.users': '用户',
  'nav.moderation': '内容审核',
  'nav.jobs': '任务队列',
  'nav.health': '运行状况',
  'nav.audit': '审计日志',
  'lang.label': '语言',
  'signout': '退出登录',
  'signin.title': '登录',
  'signin.intro': '请用管理员的密码账号登录。',
  'signin.login': '用户名或邮箱',
  'signin.password': '密码',
  'signin.submit': '登录',
  'signin.busy': '正在登录…',
  'signin.expired': '会话已结束，请重新登录。',
  'common.loading': '加载中…',
  'common.none': '暂无内容。',
  'common.next': '下一页',
  'common.first': '第一页',
  'common.refresh': '刷新',
  'common.yes': '是',
  'common.no': '否',
  'common.any': '全部',
  'common.search': '搜索',
  'common.done': '已完成。',
  'common.back': '返回用户列表',
  'common.request': '请求',
  'users.title': '用户',
  'users.query': '昵称、用户名、邮箱、手机号或 ID',
  'users.role': '角色',
  'users.appid': 'AppID',
  'users.nickname': '昵称',
  'users.login': '登录名',
  'users.created': '注册时间',
  'users.status': '状态',
  'users.open': '查看',
  'role.user': '普通用户',
  'role.admin': '管理员',
  'user.title': '用户',
  'user.profile': '资料',
  'user.id': 'ID',
  'user.bio': '简介',
  'user.phone': '手机号',
  'user.username': '用户名',
  'user.email': '邮箱',
  'user.tasks': '待办数',
  'user.disabled': '已停用',
  'user.active': '正常',
  'user.methods': '登录方式',
  'user.sessions': '会话',
  'user.uploads': '上传文件',
  'user.actions': '操作',
  'user.disable': '停用用户',
  'user.enable': '启用用户',
  'user.grant': '设为管理员',
  'user.revoke': '取消管理员',
  'user.endAll': '结束全部会话',
  'user.end': '结束',
  'user.confirmDisable': '确定停用该用户？其会话将结束，且无法再登录。',
  'user.confirmEndAll': '确定结束该用户的全部会话？',
  'session.created': '开始时间',
  'session.lastUsed': '最近使用',
  'session.expires': '过期时间',
  'session.client': '客户端',
  'upload.purpose': '用途',
  'upload.type': '类型',
  'upload.size': '大小',
  'upload.status': '状态',
  'moderation.title': '内容审核',
  'moderation.status': '状态',
  'moderation.content': '内容',
  'moderation.subject': '对象',
  'moderation.verdict': '结论',
  'moderation.created': '标记时间',
  'moderation.approve': '批准',
  'moderation.remove': '移除',
  'moderation.pending': '检测中',
  'moderation.cleared': '已通过检测',
  'moderation.open': '待处理',
  'moderation.approved': '已批准',
  'moderation.removed': '已移除',
  'jobs.title': '任务队列',
  'jobs.unavailable': '此服务器没有可显示的任务队列。',
  'jobs.counts': '各状态任务数',
  'jobs.failures': '最近失败',
  'jobs.kind': '类型',
  'jobs.state': '状态',
  'jobs.attempts': '尝试次数',
  'jobs.error': '最近错误',
  'jobs.retry': '重试',
  'jobs.cancel': '取消',
  'health.title': '运行状况',
  'health.ready': '就绪',
  'health.version': '版本',
  'health.database': '数据库',
  'health.wechat': '微信',
  'health.metrics': '关键指标',
  'health.checked': '检查时间',
  'health.uptime': '运行时长',
  'health.ping': '延迟',
  'health.pool': '连接（使用中 / 已打开 / 上限）',
  'health.token': '接口调用凭据',
  'health.tokenFresh': '有效',
  'health.tokenStale': '已过期',
  'health.tokenNone': '尚未获取',
  'health.breakers': '熔断器',
  'health.lastErrcode': '最近错误码',
  'health.goroutines': '协程数',
  'health.inFlight': '处理中的请求',
  'health.heap': '堆内存',
  'health.rateStore': '限流',
  'health.failingOpen': '降级放行中',
  'health.jobs': '各状态任务数',
  'health.ok': '正常',
  'health.down': '异常',
  'health.noApps': '未配置小程序。',
  'audit.title': '审计日志',
  'audit.when': '时间',
  'audit.who': '操作人',
  'audit.action': '操作',
  'audit.target': '对象',
  'audit.from': '来源',
  'error.title': '出错了',
  'error.forbidden': '该账号不是管理员。',
  'error.credentials': '登录名或密码错误。',
  'error.network': '无法连接服务器。',
};

const dictionaries: Record<Lang, Record<Key, string>> = { en, zh };
const LANG_KEY = 'miniback.console.lang';

function initialLang(): Lang {
  const kept = globalThis.localStorage?.getItem(LANG_KEY);
  if (kept === 'en' || kept === 'zh') return kept;
  return (globalThis.navigator?.language ?? 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** The language in force; the header's switch sets it. */
export const lang = ref<Lang>(initialLang());

export function setLang(l: Lang): void {
  lang.value = l;
  globalThis.localStorage?.setItem(LANG_KEY, l);
  applyLang();
}

/** Puts the language on <html lang> and the page title (screen readers read both). */
export function applyLang(): void {
  document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
}

/** The text of key in the current language, with {name} placeholders filled. */
export function t(key: Key, params?: Record<string, string | number>): string {
  let s = dictionaries[lang.value][key];
  if (params) for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

/** The locale for dates and numbers. */
export const locale = computed(() => (lang.value === 'zh' ? 'zh-CN' : 'en-GB'));

export function formatTime(iso: string | undefined | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale.value, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m ${seconds % 60}s`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
