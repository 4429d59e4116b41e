"""Answers policy questions with the real oslo.policy and placement, for
differential tests of placement-upgrade's policy engine.

Reads one JSON document on stdin: {"cases": [...]}; writes one JSON list,
one answer per case, in order. A case is either

  {"kind": "parse", "rule": <a rule value as a policy file holds it>}
      -> {"str": str(parse_rule(rule)), "logged": <did oslo log an error>,
          "check": <is the result a check, not a bare token>}

  {"kind": "authorize", "config_file": "/path/placement.conf",
   "headers": {...}, "action": "placement:...", "target": {...} | null}
      -> {"allowed": true|false} or {"error": "Type: message"}

"authorize" runs placement's own path: its config options registered on a
fresh ConfigOpts read from config_file (as placement-api's wsgi.py does),
placement.policy.init, the noauth2 middleware and RequestContext.from_environ
for the credentials, then context.can(action, target) (target null: the
context's default target).
"""
import json
import logging
import sys
import warnings

warnings.simplefilter('ignore')

from oslo_config import cfg  # noqa: E402
from oslo_policy import _checks  # noqa: E402
from oslo_policy import _parser  # noqa: E402
import webob  # noqa: E402

from placement import auth  # noqa: E402
from placement import conf as placement_conf  # noqa: E402
from placement import context as placement_context  # noqa: E402
from placement import exception  # noqa: E402
from placement import policy  # noqa: E402


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record):
        self.count += 1


recorder = Recorder()
parser_log = logging.getLogger('oslo_policy._parser')
parser_log.addHandler(recorder)
parser_log.propagate = False
logging.getLogger('oslo_policy').setLevel(logging.CRITICAL + 1)
logging.getLogger('oslo_policy._parser').setLevel(logging.ERROR)


def context_for(headers):
    captured = {}

    def app(environ, start_response):
        captured['environ'] = environ
        start_response('200 OK', [])
        return [b'']

    req = webob.Request.blank('/resource_providers', headers=headers)
    req.get_response(auth.NoAuthMiddleware(app))
    if 'environ' not in captured:
        raise RuntimeError('noauth2 refused the request (no X-Auth-Token?)')
    return placement_context.RequestContext.from_environ(captured['environ'])


def parse(case):
    before = recorder.count
    check = _parser.parse_rule(case['rule'])
    return {'str': str(check), 'logged': recorder.count > before,
            'check': isinstance(check, _checks.BaseCheck)}


_loaded = {'file': None, 'error': None}


def load(config_file):
    """placement's start-up for this config file (kept while the cases use the same one)."""
    if _loaded['file'] == config_file:
        return
    policy.reset()
    _loaded.update(file=config_file, error=None)
    conf = cfg.ConfigOpts()
    placement_conf.register_opts(conf)
    conf([], project='placement', default_config_files=[config_file])
    try:
        policy.init(conf, suppress_deprecation_warnings=True)
    except Exception as e:
        _loaded['error'] = e


def authorize(case):
    load(case['config_file'])
    try:
        if _loaded['error'] is not None:
            raise _loaded['error']
        ctx = context_for(case['headers'])
        ctx.can(case['action'], case['target'])
        return {'allowed': True}
    except exception.PolicyNotAuthorized:
        return {'allowed': False}
    except Exception as e:  # the 500 placement would answer
        return {'error': '%s: %s' % (type(e).__name__, e)}


def main():
    cases = json.load(sys.stdin)['cases']
    out = []
    for case in cases:
        try:
            out.append(parse(case) if case['kind'] == 'parse' else authorize(case))
        except Exception as e:
            out.append({'error': '%s: %s' % (type(e).__name__, e)})
    json.dump(out, sys.stdout)


main()
