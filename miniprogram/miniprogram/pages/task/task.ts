// Edit one task: title, notes, priority, done. The save sends the ETag
// the page loaded in If-Match, so an edit made meanwhile on another
// device is never overwritten (412: the page reloads the task).
import { api } from '../../api';
import { isApiProblem, type Todo } from '../../lib/miniback-sdk/index';
import { fieldErrorsOf, toastError } from '../../errors';
import { askForReminders } from '../../reminders';

const PRIORITIES: Todo['priority'][] = ['low', 'normal', 'high'];

Page({
  data: {
    id: '',
    etag: '',
    title: '',
    notes: '',
    priorityIndex: 1,
    priorityLabels: ['低', '普通', '高'],
    done: false,
    saving: false,
    fieldErrors: {} as Record<string, string>,
    // Reminders the server may send (one per acceptance); -1 until asked.
    reminders: -1,
  },

  async onLoad(query: Record<string, string | undefined>) {
    this.setData({ id: query.id ?? '' });
    await this.load();
  },

  async load() {
    try {
      const res = await api().GET('/v1/todos/{id}', { path: { id: this.data.id } });
      if (res.status !== 200) return;
      const t = res.data;
      this.setData({
        etag: res.headers.etag ?? '',
        title: t.title,
        notes: t.notes,
        priorityIndex: PRIORITIES.indexOf(t.priority),
        done: t.done,
        fieldErrors: {},
      });
    } catch (e) {
      toastError(e);
    }
  },

  onTitleInput(e: WechatMiniprogram.Input) {
    this.setData({ title: e.detail.value });
  },

  onNotesInput(e: WechatMiniprogram.Input) {
    this.setData({ notes: e.detail.value });
  },

  onPriorityChange(e: WechatMiniprogram.PickerChange) {
    this.setData({ priorityIndex: Number(e.detail.value) });
  },

  onDoneChange(e: WechatMiniprogram.SwitchChange) {
    this.setData({ done: e.detail.value });
  },

  // "Remind me": the subscribe-message popup for the reminder template.
  async onRemindMe() {
    try {
      const reminders = await askForReminders();
      this.setData({ reminders });
      await wx.showToast({ title: reminders > 0 ? `可提醒 ${reminders} 次` : '未开启提醒', icon: 'none' });
    } catch (e) {
      toastError(e);
    }
  },

  async onSave() {
    this.setData({ saving: true, fieldErrors: {} });
    try {
      await api().PATCH('/v1/todos/{id}', {
        path: { id: this.data.id },
        body: { title: this.data.title, notes: this.data.notes, priority: PRIORITIES[this.data.priorityIndex], done: this.data.done },
        headers: this.data.etag ? { 'If-Match': this.data.etag } : {},
      });
      await wx.navigateBack();
    } catch (e) {
      if (isApiProblem(e) && e.code === 'precondition_failed') {
        await wx.showModal({ title: '任务已在别处修改', content: '已载入最新内容，请重新编辑。', showCancel: false });
        await this.load();
      } else {
        this.setData({ fieldErrors: fieldErrorsOf(e) });
        toastError(e);
      }
    } finally {
      this.setData({ saving: false });
    }
  },
});
