# A stdout callback for the playbook test: one JSON document at the end with
# every task's result for every host, by play and task name. ansible-core
# alone ships no JSON stdout callback (that one is in the ansible.posix
# collection, which the full "ansible" package brings), so the test carries
# its own.
import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: pu_results
    type: stdout
    short_description: every task result as one JSON document
    description:
        - placement-upgrade's playbook test reads task results from it.
'''


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'stdout'
    CALLBACK_NAME = 'pu_results'

    def __init__(self):
        super().__init__()
        self.plays = []
        self.tasks = {}

    def v2_playbook_on_play_start(self, play):
        self.plays.append({'play': {'name': play.get_name()}, 'tasks': []})

    def _task_start(self, task):
        entry = {'task': {'name': task.get_name()}, 'hosts': {}}
        self.plays[-1]['tasks'].append(entry)
        self.tasks[task._uuid] = entry

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task)

    def _record(self, result, **extra):
        data = dict(result._result)
        data.update(extra)
        entry = self.tasks.get(result._task._uuid)
        if entry is not None:
            entry['hosts'][result._host.get_name()] = data

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True)

    def v2_runner_on_skipped(self, result):
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    def v2_playbook_on_stats(self, stats):
        self._display.display(json.dumps({'plays': self.plays}, default=str))
