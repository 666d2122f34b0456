// The task list: create, complete, delete, open for editing; pull to
// refresh; the next page when the list is scrolled to the bottom.
import { api } from '../../api';
import { isApiProblem, type Todo } from '../../lib/miniback-sdk/index';
import { messageOf, toastError } from '../../errors';

export const PAGE_SIZE = 20;

type Filter = 'all' | 'open' | 'done';

// The task's ETag, as the spec defines it: "v<version>" in quotes.
function etagOf(t: Todo): string {
  return `"v${t.version}"`;
}

// An Idempotency-Key: the same one is sent again when the user retries a
// create that got no answer, so a flaky network never makes two tasks.
function newKey(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

Page({
  data: {
    items: [] as Todo[],
    cursor: null as string | null,
    filter: 'all' as Filter,
    loading: false,
    loadingMore: false,
    loaded: false,
    newTitle: '',
    creating: false,
    error: '',
  },
  // The key of the create in progress (kept across retries of one title).
  pendingKey: '',

  async onLoad() {
    await this.refresh();
  },

  async onShow() {
    // Back from the edit page: show what changed.
    if (this.data.loaded) await this.refresh();
  },

  async onPullDownRefresh() {
    await this.refresh();
    await wx.stopPullDownRefresh();
  },

  async onReachBottom() {
    await this.loadMore();
  },

  query() {
    const f = this.data.filter;
    return { limit: PAGE_SIZE, ...(f === 'all' ? {} : { done: f === 'done' }) };
  },

  async refresh() {
    this.setData({ loading: true, error: '' });
    try {
      const { data } = await api().GET('/v1/todos', { query: this.query() });
      this.setData({ items: data.items, cursor: data.next_cursor, loaded: true });
    } catch (e) {
      this.setData({ error: messageOf(e) });
    } finally {
      this.setData({ loading: false });
    }
  },

  async loadMore() {
    const cursor = this.data.cursor;
    if (!cursor || this.data.loadingMore) return;
    this.setData({ loadingMore: true });
    try {
      const { data } = await api().GET('/v1/todos', { query: { ...this.query(), cursor } });
      this.setData({ items: this.data.items.concat(data.items), cursor: data.next_cursor });
    } catch (e) {
      if (isApiProblem(e) && e.code === 'invalid_cursor') await this.refresh();
      else toastError(e);
    } finally {
      this.setData({ loadingMore: false });
    }
  },

  async onFilter(e: WechatMiniprogram.TouchEvent) {
    this.setData({ filter: e.currentTarget.dataset.filter as Filter });
    await this.refresh();
  },

  onNewTitleInput(e: WechatMiniprogram.Input) {
    if (e.detail.value !== this.data.newTitle) this.pendingKey = '';
    this.setData({ newTitle: e.detail.value });
  },

  async onCreate() {
    const title = this.data.newTitle.trim();
    if (!title || this.data.creating) return;
    if (!this.pendingKey) this.pendingKey = newKey();
    this.setData({ creating: true });
    try {
      const { data } = await api().POST('/v1/todos', { body: { title }, headers: { 'Idempotency-Key': this.pendingKey } });
      this.pendingKey = '';
      const shown = this.data.filter !== 'done';
      this.setData({ newTitle: '', items: shown ? [data].concat(this.data.items) : this.data.items });
    } catch (e) {
      toastError(e);
    } finally {
      this.setData({ creating: false });
    }
  },

  async onToggle(e: WechatMiniprogram.TouchEvent) {
    const i = this.data.items.findIndex((t) => t.id === e.currentTarget.dataset.id);
    if (i < 0) return;
    const t = this.data.items[i];
    try {
      const { data } = await api().PATCH('/v1/todos/{id}', {
        path: { id: t.id },
        body: { done: !t.done },
        headers: { 'If-Match': etagOf(t) },
      });
      const stillShown = this.data.filter === 'all' || (this.data.filter === 'done') === data.done;
      if (stillShown) this.setData({ [`items[${i}]`]: data });
      else this.setData({ items: this.data.items.filter((x) => x.id !== t.id) });
    } catch (err) {
      await this.changedElsewhere(err);
    }
  },

  async onDelete(e: WechatMiniprogram.TouchEvent) {
    const t = this.data.items.find((x) => x.id === e.currentTarget.dataset.id);
    if (!t) return;
    const { confirm } = await wx.showModal({ title: '删除任务', content: t.title, confirmText: '删除', confirmColor: '#d33' });
    if (!confirm) return;
    try {
      await api().DELETE('/v1/todos/{id}', { path: { id: t.id }, headers: { 'If-Match': etagOf(t) } });
      this.setData({ items: this.data.items.filter((x) => x.id !== t.id) });
    } catch (err) {
      await this.changedElsewhere(err);
    }
  },

  // A 412 means someone changed the task in between (another device):
  // nothing was written; show the current list.
  async changedElsewhere(err: unknown) {
    if (isApiProblem(err) && (err.code === 'precondition_failed' || err.code === 'not_found')) {
      await wx.showToast({ title: '任务已在别处修改', icon: 'none' });
      await this.refresh();
    } else {
      toastError(err);
    }
  },

  async onEdit(e: WechatMiniprogram.TouchEvent) {
    await wx.navigateTo({ url: `/pages/task/task?id=${e.currentTarget.dataset.id as string}` });
  },

  async onProfile() {
    await wx.navigateTo({ url: '/pages/profile/profile' });
  },
});
