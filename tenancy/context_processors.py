from .permissions import Action, can


def workspace(request) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    memberships = []
    if user is not None and user.is_authenticated:
        memberships = list(user.memberships.select_related("workspace").order_by("workspace__name"))
    return {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        "my_memberships": memberships,
        "can_work": can(membership, Action.WORK),
        "can_configure": can(membership, Action.CONFIGURE),
    }
