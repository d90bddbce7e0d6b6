using System.Globalization;
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
/// Passwords and sign-in: ASP.NET Core's <see cref="PasswordHasher{TUser}"/>, a pause per name and address after
/// repeated failures (<see cref="SignInThrottle"/>), and the same answer and amount of work whether or not the user
/// exists, so neither the answer nor its timing reveals user names.
/// </summary>
internal sealed partial class Accounts(IUserStore users, TimeProvider time, SignInSettings settings, ILogger<Accounts> logger)
{
    private readonly SignInThrottle _throttle = new(settings, time);

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

    /// <summary>The one answer to every sign-in that fails, whatever the reason, so it tells nothing about the name.</summary>
    public string FailureSentence =>
        string.Create(CultureInfo.InvariantCulture, $"Wrong user name or password, or too many failed attempts: after {settings.MaxFailedAttempts} in a row from one address, that name may not sign in from there for {Math.Ceiling(settings.LockoutDuration.TotalMinutes)} minutes.");

    /// <summary>
    /// Checks a password. Failures are counted per name and client address (<see cref="SignInThrottle"/>), unknown
    /// names included; a name paused for <paramref name="address"/> is refused there even with the right password,
    /// and signs in from anywhere else.
    /// </summary>
    public async Task<(SignInOutcome Outcome, UserRecord? User)> SignInAsync(string userName, string password, string? address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userName);
        var shownName = userName.Length > 64 ? userName[..64] : userName;
        if (_throttle.PausedUntil(userName, address) is not null)
        {
            LogFailed(logger, shownName, address ?? "?", "too many failures from this address");
            return (SignInOutcome.LockedOut, null);
        }

        var user = UserNames.IsValid(userName) ? await users.FindByNameAsync(userName, cancellationToken).ConfigureAwait(false) : null;
        var now = time.GetUtcNow();
        if (user is null || user.PasswordHash is null)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password ?? string.Empty);
            return Failed(shownName, "unknown user or no password set");
        }

        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? string.Empty);
        if (verdict == PasswordVerificationResult.Failed)
        {
            // The count in the store is for administrators to see; it locks nothing (the throttle does, per address).
            await users.RecordSignInFailureAsync(user.Id, user.FailedSignIns + 1, null, cancellationToken).ConfigureAwait(false);
            return Failed(user.Name, "wrong password");
        }

        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            await users.SetPasswordHashAsync(user.Id, HashPassword(password!), cancellationToken).ConfigureAwait(false);
        }

        _throttle.RecordSuccess(userName, address);
        await users.RecordSignInSuccessAsync(user.Id, now, cancellationToken).ConfigureAwait(false);
        LogSignedIn(logger, user.Name);
        return (SignInOutcome.Succeeded, user);

        (SignInOutcome, UserRecord?) Failed(string name, string reason)
        {
            var paused = _throttle.RecordFailure(userName, address) is not null;
            LogFailed(logger, name, address ?? "?", paused ? reason + "; paused for this address" : reason);
            return (paused ? SignInOutcome.LockedOut : SignInOutcome.Failed, null);
        }
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

    [LoggerMessage(EventId = 5201, Level = LogLevel.Warning, Message = "Sign-in failed for {UserName} from {Address}: {Reason}")]
    private static partial void LogFailed(ILogger logger, string userName, string address, string reason);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "{UserName} signed in")]
    private static partial void LogSignedIn(ILogger logger, string userName);
}
