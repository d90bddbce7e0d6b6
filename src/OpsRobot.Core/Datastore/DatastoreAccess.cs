namespace OpsRobot.Core.Datastore;

/// <summary>What someone wants to do with a key.</summary>
public enum DatastoreOperation
{
    Read,
    Write,
}

/// <summary>Through which door a datastore request came.</summary>
public enum DatastoreDoor
{
    Chat,
    Api,
}

/// <summary>
/// Decides who may read and write which keys: <see cref="GrantDatastoreAccessPolicy"/>, access control's grants.
/// </summary>
public interface IDatastoreAccessPolicy
{
    /// <summary>Null when allowed; otherwise the sentence to tell the caller.</summary>
    ValueTask<string?> CheckAsync(string userName, DatastoreDoor door, DatastoreOperation operation, KeyValueScope scope, string owner, CancellationToken cancellationToken);
}

/// <summary>
/// Access control's policy: your own keys are yours; system keys need <c>datastore.view</c> to read and
/// <c>datastore.set</c> to change (the key name is not known here, so grants apply to every system key). Every
/// refusal is recorded in the audit as a deny decision, from chat and the API alike.
/// </summary>
public sealed class GrantDatastoreAccessPolicy(Access.AccessService access, Users.IUserStore users) : IDatastoreAccessPolicy
{
    public async ValueTask<string?> CheckAsync(string userName, DatastoreDoor door, DatastoreOperation operation, KeyValueScope scope, string owner, CancellationToken cancellationToken)
    {
        var doorName = door == DatastoreDoor.Chat ? Access.Doors.Chat : Access.Doors.Api;
        var permission = operation == DatastoreOperation.Read ? Access.Permissions.DatastoreView : Access.Permissions.DatastoreSet;
        var user = await users.FindByNameAsync(userName, cancellationToken).ConfigureAwait(false);
        if (user is null)
        {
            await access.RecordRefusalAsync(userName, doorName, null, $"{permission} on {Describe(scope, owner)}", "not an OpsRobot user", cancellationToken).ConfigureAwait(false);
            return "The datastore is for OpsRobot users.";
        }

        if (scope == KeyValueScope.User)
        {
            if (string.Equals(owner, user.Name, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            await access.RecordRefusalAsync(user.Name, doorName, null, $"{permission} on {Describe(scope, owner)}", "a user's keys are theirs alone", cancellationToken).ConfigureAwait(false);
            return "A user's keys are theirs alone.";
        }

        var principal = await access.ForUserAsync(user, doorName, null, cancellationToken).ConfigureAwait(false);
        var decision = await access.CheckAsync(principal, permission, "*", cancellationToken).ConfigureAwait(false);
        return decision.Allowed ? null : $"You need `{permission}` for system keys.";
    }

    private static string Describe(KeyValueScope scope, string owner) => scope == KeyValueScope.User ? $"{owner}'s keys" : "system keys";
}
