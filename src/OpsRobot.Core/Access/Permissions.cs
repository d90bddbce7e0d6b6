using System.Collections.Frozen;

namespace OpsRobot.Core.Access;

/// <summary>
/// The permissions: a verb on a resource type, written <c>type.verb</c>. StackStorm's list is the guide; each
/// names what its resource is, so a grant's resource patterns mean the same thing everywhere.
/// </summary>
public static class Permissions
{
    public const string PackView = "pack.view";
    public const string PackReload = "pack.reload";
    public const string ActionView = "action.view";
    public const string ActionExecute = "action.execute";
    public const string AliasView = "alias.view";
    public const string AliasRun = "alias.run";
    public const string ExecutionView = "execution.view";
    public const string ExecutionCancel = "execution.cancel";
    public const string ExecutionRerun = "execution.rerun";
    public const string RuleView = "rule.view";
    public const string RuleManage = "rule.manage";
    public const string WorkflowView = "workflow.view";
    public const string WorkflowManage = "workflow.manage";
    public const string DatastoreView = "datastore.view";
    public const string DatastoreSet = "datastore.set";
    public const string DatastoreDelete = "datastore.delete";
    public const string WebhookSend = "webhook.send";
    public const string WebhookManage = "webhook.manage";
    public const string ApiKeyView = "apikey.view";
    public const string ApiKeyManage = "apikey.manage";
    public const string UserView = "user.view";
    public const string UserManage = "user.manage";
    public const string RoleView = "role.view";
    public const string RoleManage = "role.manage";
    public const string TreeView = "tree.view";
    public const string TreeManage = "tree.manage";
    public const string AuditView = "audit.view";
    public const string AlertView = "alert.view";
    public const string AlertAck = "alert.ack";
    public const string AlertSilence = "alert.silence";
    public const string HostView = "host.view";
    public const string HostManage = "host.manage";
    public const string Sudo = "sudo";

    /// <summary>Every permission, with what its resource patterns are matched against.</summary>
    public static FrozenDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PackView] = "pack name",
        [PackReload] = "pack name",
        [ActionView] = "action ref (pack.name)",
        [ActionExecute] = "action ref (pack.name)",
        [AliasView] = "alias ref (pack.name)",
        [AliasRun] = "alias ref (pack.name)",
        [ExecutionView] = "the execution's action ref",
        [ExecutionCancel] = "the execution's action ref",
        [ExecutionRerun] = "the execution's action ref",
        [RuleView] = "rule ref",
        [RuleManage] = "rule ref",
        [WorkflowView] = "workflow action ref",
        [WorkflowManage] = "workflow action ref",
        [DatastoreView] = "key name",
        [DatastoreSet] = "key name",
        [DatastoreDelete] = "key name",
        [WebhookSend] = "webhook name",
        [WebhookManage] = "webhook name",
        [ApiKeyView] = "owner's user name",
        [ApiKeyManage] = "owner's user name",
        [UserView] = "user name",
        [UserManage] = "user name",
        [RoleView] = "role name",
        [RoleManage] = "role name",
        [TreeView] = "node path",
        [TreeManage] = "node path",
        [AuditView] = "*",
        [AlertView] = "the alert's application node path, or (none)",
        [AlertAck] = "the alert's application node path, or (none)",
        [AlertSilence] = "the alert's application node path, or (none)",
        [HostView] = "host name",
        [HostManage] = "host name",
        [Sudo] = "action ref (pack.name)",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// Permissions that change who may do what. Commands that need them run only for users on the administrators'
    /// whitelist, whatever their roles say.
    /// </summary>
    public static FrozenSet<string> Administrative { get; } = new[]
    {
        UserManage, RoleManage, ApiKeyManage, TreeManage,
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>True when <paramref name="pattern"/> (a permission name, or a wildcard such as <c>action.*</c>) names at least one permission.</summary>
    public static bool IsKnownPattern(string pattern) =>
        All.Keys.Any(p => Wildcard.IsMatch(pattern, p));
}
