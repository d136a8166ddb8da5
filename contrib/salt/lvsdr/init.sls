{#- Installs this minion's part of an lvsdr tree from its index.json: whole files with
    file.managed and their modes; blocks with file.blockreplace between lvsdr's markers
    (the file stays the host's own; a new block goes before its first top-level `exit`,
    or at the end); then, when anything changed, index.json's steps in order: a real
    server's enable and apply, a director's reload or restart (after its enable steps
    when a file they act on changed). The tree is salt://lvsdr/out, as `lvsdr compile
    cluster.json -o <file_roots>/lvsdr/out` wrote it; pillar lvsdr:host names the host
    when its minion id is not its name in the manifest. -#}
{%- set index = salt['cp.get_file_str']('salt://lvsdr/out/index.json') | load_json %}
{%- set host = salt['pillar.get']('lvsdr:host', grains['id']) %}
{%- set entries = (index.servers + index.directors) | selectattr('name', 'equalto', host) | list %}
{%- if not entries %}
lvsdr-unknown-host:
  test.fail_without_changes:
    - name: {{ (host ~ ' is not a real server or director of cluster ' ~ index.cluster) | json }}
{%- else %}
{%- set entry = entries[0] %}
{%- if host in index.directors | map(attribute='name') | list %}
{#- A director records what it applied (its VRRP instance, interface and files' digests)
    once its steps succeeded: a failed run leaves the record as it was, so the next run
    takes the change up again though the files are already in place (the steps are due).
    It runs its enable steps (keepalived at boot, the IPVS modules, firewalld's service:
    `firewall-cmd --reload`, during which firewalld drops new connections to it) only on
    a first install or when a file they act on differs from what it last applied: any
    artifact but the failover configuration and the IPVS table (kinds keepalived, lvs.cf,
    ipvsadm), and one that appears or goes (a file the record has and the tree no longer
    has counts: the record does not say what it was), as `lvsdr diff` says. Then it
    reloads its failover daemon when the VRRP instance and interface are the ones it last
    applied, and restarts it (or starts it: nothing applied yet) otherwise: a reload
    re-creates a changed instance on each director at its own moment, and directors that
    disagree on it do not hear each other. Piranha's reload is its restart. The record is
    read here, as the minion renders the state. #}
{%- set record = '/var/lib/lvsdr/director-state.json' %}
{%- set files = {} %}
{%- for artifact in entry.artifacts %}
{%- do files.update({artifact.install_path: artifact.sha256}) %}
{%- endfor %}
{%- set wanted = {'interface': entry.interface, 'vrrp': entry.get('vrrp'), 'files': files} %}
{%- set applied = (salt['file.read'](record) | load_json) if salt['file.file_exists'](record) else {} %}
{%- set failover = entry.artifacts | selectattr('kind', 'in', ['keepalived', 'lvs.cf', 'ipvsadm'])
                   | map(attribute='install_path') | list %}
{%- set recorded = applied.get('files', {}) %}
{%- set enable = namespace(runs=not applied) %}
{%- for path in (recorded | list) + (files | list) if path not in failover and recorded.get(path) != files.get(path) %}
{%- set enable.runs = true %}
{%- endfor %}
{%- set reload = applied.get('interface') == wanted.interface and applied.get('vrrp') == wanted.vrrp %}
{%- set steps = (entry.steps.enable if enable.runs else [])
                + (entry.steps.reload if reload else entry.steps.restart) %}
{%- set due = applied != wanted %}
{%- else %}
{%- set record = none %}
{%- set steps = entry.steps.enable + entry.steps.apply %}
{%- set due = false %}
{%- endif %}
{%- for artifact in entry.artifacts %}
{%- if artifact.install == 'file' %}

lvsdr-file-{{ artifact.id }}:
  file.managed:
    - name: {{ artifact.install_path | json }}
    - source: {{ ('salt://lvsdr/out/' ~ artifact.path) | json }}
    - mode: {{ artifact.mode | json }}
    - user: root
    - group: root
    - makedirs: True
{%- else %}
{%- set lines = salt['cp.get_file_str']('salt://lvsdr/out/' ~ artifact.path).rstrip('\n').split('\n') %}
{%- if lines[0] != index.block_markers.begin or lines[-1] != index.block_markers.end %}

lvsdr-bad-fragment-{{ artifact.id }}:
  test.fail_without_changes:
    - name: {{ (artifact.path ~ ' does not start and end with the index.json block markers') | json }}
{%- endif %}

# A hook the host does not have yet starts as a shell script; an existing one is kept.
lvsdr-hook-{{ artifact.id }}:
  file.managed:
    - name: {{ artifact.install_path | json }}
    - contents: "#!/bin/sh"
    - replace: False
    - mode: {{ artifact.mode | json }}
    - makedirs: True

lvsdr-block-{{ artifact.id }}:
  file.blockreplace:
    - name: {{ artifact.install_path | json }}
    - marker_start: {{ index.block_markers.begin | json }}
    - marker_end: {{ index.block_markers.end | json }}
    - content: {{ (lines[1:-1] | join('\n')) | json }}
    - append_if_not_found: True
    - insert_before_match: '^exit\b'
    - require:
      - file: lvsdr-hook-{{ artifact.id }}
{%- endif %}
{%- endfor %}
{#- Each step an argument vector of validated words (paths, unit names, options): joined
    with spaces, it is the same words to the shell the cmd.run state always runs. #}
{%- for step in steps %}

lvsdr-step-{{ loop.index0 }}:
  cmd.run:
    - name: {{ step.argv | join(' ') | json }}
{%- if not due %}
    - onchanges:
{%- for artifact in entry.artifacts %}
      - file: lvsdr-{{ 'file' if artifact.install == 'file' else 'block' }}-{{ artifact.id }}
{%- endfor %}
{%- endif %}
{%- if due or not loop.first %}
    - require:
{%- if due %}
{%- for artifact in entry.artifacts %}
      - file: lvsdr-{{ 'file' if artifact.install == 'file' else 'block' }}-{{ artifact.id }}
{%- endfor %}
{%- endif %}
{%- if not loop.first %}
      - cmd: lvsdr-step-{{ loop.index0 - 1 }}
{%- endif %}
{%- endif %}
{%- endfor %}
{%- if record %}

# Once every step succeeded (a failed requisite leaves it as it was).
lvsdr-director-state:
  file.managed:
    - name: {{ record | json }}
    - contents: {{ wanted | json | json }}
    - mode: "0644"
    - makedirs: True
    - require:
      - cmd: lvsdr-step-{{ steps | length - 1 }}
{%- endif %}
{%- endif %}
