"""The drill tests: one pytest function per drill, run once per pair (``pytest drills/``).

Installed from the wheel, this folder is the package ``dhcpdrill.drills`` (``pytest --pyargs
dhcpdrill.drills --pair PATH``) and ``scenarios/`` is ``dhcpdrill.scenarios``: the drills' own
``from scenarios.x import ...`` then reaches the scenarios installed with them."""
if __name__ == "dhcpdrill.drills":
    from dhcpdrill.catalogue import alias_shipped_scenarios

    alias_shipped_scenarios()
