# What the lvsdr class last applied on a director (its VRRP instance, interface and files'
# digests), as it recorded it once the steps succeeded; absent before the first success.
# The class compares it with the tree: the files' digests say whether the enable steps
# run, the VRRP instance and interface whether the daemon reloads or restarts.
require 'json'

Facter.add(:lvsdr_director_state) do
  setcode do
    path = '/var/lib/lvsdr/director-state.json'
    JSON.parse(File.read(path)) if File.exist?(path)
  end
end
