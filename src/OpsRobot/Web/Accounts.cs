using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using OpsRobot.Core.Access;
using OpsRobot.Core.Storage;
using OpsRobot.Core.Users;
using OpsRobot.Hosting;

namespace OpsRobot.Web;

/// <summary>The outcome of a sign-in attempt.</summary>
internal enum SignInOutcome
{
    Succeeded,
    Failed,
    LockedOut,
}

/// <summary>
/// Passwords and sign-in: ASP.NET Core's <see cref="PasswordHasher{TUser}"/>, a lockout after repeated failures,
/// and the same amount of work whether or not the user exists, so timing does not reveal user names.
/// </summary>
internal sealed partial class Accounts(IUserStore users, TimeProvider time, SignInSettings settings, ILogger<Accounts> logger)
{
    private static readonly PasswordHasher<UserRecord> Hasher = new();

    // Verified when the user does not exist, so the answer takes as long as for a real user.
    private static readonly string DummyHash = Hasher.HashPassword(null!, "opsrobot-no-such-user");

    public static string HashPassword(string password) => Hasher.HashPassword(null!, password);

    /// <summary>A password of 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I).</summary>
    public static string GeneratePassword()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }

    public async Task<(SignInOutcome Outcome, UserRecord? User)> SignInAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var user = UserNames.IsValid(userName) ? await users.FindByNameAsync(userName, cancellationToken).ConfigureAwait(false) : null;
        var now = time.GetUtcNow();
        if (user is null || user.PasswordHash is null)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password ?? string.Empty);
            LogFailed(logger, userName.Length > 64 ? userName[..64] : userName, "unknown user or no password set");
            return (SignInOutcome.Failed, null);
        }

        if (user.LockedUntil is { } until && until > now)
        {
            LogFailed(logger, user.Name, "account locked");
            return (SignInOutcome.LockedOut, null);
        }

        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? string.Empty);
        if (verdict == PasswordVerificationResult.Failed)
        {
            // A lock that has expired starts the count afresh.
            var failures = (user.LockedUntil is not null ? 0 : user.FailedSignIns) + 1;
            DateTimeOffset? lockUntil = failures >= settings.MaxFailedAttempts ? now + settings.LockoutDuration : null;
            await users.RecordSignInFailureAsync(user.Id, failures, lockUntil, cancellationToken).ConfigureAwait(false);
            LogFailed(logger, user.Name, lockUntil is null ? "wrong password" : "wrong password; account locked");
            return (lockUntil is null ? SignInOutcome.Failed : SignInOutcome.LockedOut, null);
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await users.SetPasswordHashAsync(user.Id, HashPassword(password!), cancellationToken).ConfigureAwait(false);
        }

        await users.RecordSignInSuccessAsync(user.Id, now, cancellationToken).ConfigureAwait(false);
        LogSignedIn(logger, user.Name);
        return (SignInOutcome.Succeeded, user);
    }

    /// <summary>
    /// Makes sure an administrator exists. On the very first start this creates one, with the configured password
    /// or a generated one, which is returned so the caller can show it once. Returns null when nothing was created.
    /// </summary>
    public static async Task<(string UserName, string? GeneratedPassword)?> EnsureFirstAdminAsync(IUserStore users, IAccessStore access, TimeProvider time, AdminSettings admin, CancellationToken cancellationToken)
    {
        if (await users.CountAdminsAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            return null;
        }

        if (!UserNames.IsValid(admin.UserName))
        {
            throw new StartupException($"OpsRobot:Admin:UserName '{admin.UserName}' is not a valid user name: {UserNames.Rule}.");
        }

        var generated = string.IsNullOrEmpty(admin.Password) ? GeneratePassword() : null;
        var hash = HashPassword(generated ?? admin.Password!);
        var existing = await users.FindByNameAsync(admin.UserName, cancellationToken).ConfigureAwait(false);
        if (existing is null)
        {
            try
            {
                await users.CreateAsync(admin.UserName, admin.UserName, isAdmin: true, hash, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreConflictException)
            {
                // A second process made it at the same moment; theirs stands.
                return null;
            }
        }
        else
        {
            // A user of that name exists (made by the shell chat, say) but no administrator does: promote it.
            await users.SetAdminAsync(existing.Id, true, cancellationToken).ConfigureAwait(false);
            await users.SetPasswordHashAsync(existing.Id, hash, cancellationToken).ConfigureAwait(false);
        }

        // On the whitelist and with the admin role: the first administrator can do everything, including giving rights.
        if (await users.FindByNameAsync(admin.UserName, cancellationToken).ConfigureAwait(false) is { } made)
        {
            await access.AssignRoleAsync(new UserRoleAssignment(made.Id, BuiltInRoles.Admin, "first start", time.GetUtcNow()), cancellationToken).ConfigureAwait(false);
        }

        return (admin.UserName, generated);
    }

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Sign-in failed for {UserName}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string userName, string reason);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "{UserName} signed in")]
    private static partial void LogSignedIn(ILogger logger, string userName);
}
