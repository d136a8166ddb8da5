{#- Installs this minion's part of an lvsdr tree from its index.json: whole files with
    file.managed and their modes; blocks with file.blockreplace between lvsdr's markers
    (the file stays the host's own; a new block goes before its first top-level `exit`,
    or at the end); then, when anything changed, index.json's enable and apply steps in
    order. The tree is salt://lvsdr/out, as `lvsdr compile cluster.json -o
    <file_roots>/lvsdr/out` wrote it; pillar lvsdr:host names the host when its minion id
    is not its name in the manifest. -#}
{%- set index = salt['cp.get_file_str']('salt://lvsdr/out/index.json') | load_json %}
{%- set host = salt['pillar.get']('lvsdr:host', grains['id']) %}
{%- set entries = (index.servers + index.directors) | selectattr('name', 'equalto', host) | list %}
{%- if not entries %}
lvsdr-unknown-host:
  test.fail_without_changes:
    - name: {{ (host ~ ' is not a real server or director of cluster ' ~ index.cluster) | json }}
{%- else %}
{%- set entry = entries[0] %}
{%- set steps = (entry.steps.enable + entry.steps.apply) if entry.steps is defined else [] %}
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
{%- for step in steps %}

lvsdr-step-{{ loop.index0 }}:
  cmd.run:
    - name: {{ step.argv | join(' ') | json }}
    - python_shell: False
    - onchanges:
{%- for artifact in entry.artifacts %}
      - file: lvsdr-{{ 'file' if artifact.install == 'file' else 'block' }}-{{ artifact.id }}
{%- endfor %}
{%- if not loop.first %}
    - require:
      - cmd: lvsdr-step-{{ loop.index0 - 1 }}
{%- endif %}
{%- endfor %}
{%- endif %}
