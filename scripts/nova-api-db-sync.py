#!/usr/bin/python3
"""Creates nova's real nova_api schema with nova's own code, as
`nova-manage api_db sync` does: nova.db.migration.db_sync(database='api').

Usage: /usr/bin/python3 scripts/nova-api-db-sync.py <sqlalchemy-url>
Needs Debian's python3-nova (nova 26, Zed). Prints the revision it reached.
Used by test/integration/fixtures-nova-schema.test.ts to prove that the
generated schema is nova's.
"""
import os
import sys
import tempfile


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 1
    url = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, 'nova.conf')
        with open(conf, 'w') as f:
            f.write('[api_database]\nconnection = %s\n' % url.replace('%', '%%'))
            f.write('[database]\nconnection = sqlite://\n')
        from nova import config
        config.parse_args(['nova-manage', '--config-file', conf], configure_db=True, init_rpc=False)
        from nova.db import migration
        migration.db_sync(database='api')
        print(migration.db_version(database='api'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
