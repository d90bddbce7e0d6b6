using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.Mattermost;
using OpsRobot.Core.Status;

// In the DI namespace (as YARP and ASP.NET do) so the host registers the adapter with one line and no new using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the Mattermost adapter.</summary>
public static class MattermostServiceCollectionExtensions
{
    /// <summary>
    /// Reads <c>OpsRobot:Chat:Mattermost</c>; when <c>Enabled</c>, adds the adapter (a hosted service), its reply sender
    /// for platform <c>mattermost</c> and its status (<c>chat:mattermost</c>). A setting that cannot work throws here, at
    /// start, naming the key.
    /// </summary>
    public static IServiceCollection AddOpsRobotMattermost(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = MattermostOptions.FromConfiguration(configuration.GetSection(MattermostOptions.Section));
        services.TryAddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        if (!options.Enabled)
        {
            return services;
        }

        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<MattermostAdapter>();
        services.AddHostedService(sp => sp.GetRequiredService<MattermostAdapter>());
        services.AddSingleton(sp => new ReplySenderRegistration(new ChatAdapterReplySender(sp.GetRequiredService<MattermostAdapter>())));
        services.AddSingleton<IStatusSource>(sp => new ChatAdapterStatus(sp.GetRequiredService<MattermostAdapter>()));
        return services;
    }
}
