using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Connected;
using OpsRobot.Chat.RocketChat;
using OpsRobot.Core.Status;

// In the DI namespace (as YARP and ASP.NET do) so the host registers the adapter with one line and no new using.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the RocketChat adapter.</summary>
public static class RocketChatServiceCollectionExtensions
{
    /// <summary>
    /// Reads <c>OpsRobot:Chat:RocketChat</c>; when <c>Enabled</c>, adds the adapter (a hosted service), its reply sender
    /// for platform <c>rocketchat</c> and its status (<c>chat:rocketchat</c>). A setting that cannot work throws here, at
    /// start, naming the key.
    /// </summary>
    public static IServiceCollection AddOpsRobotRocketChat(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = RocketChatOptions.FromConfiguration(configuration.GetSection(RocketChatOptions.Section));
        services.TryAddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        if (!options.Enabled)
        {
            return services;
        }

        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RocketChatAdapter>();
        services.AddHostedService(sp => sp.GetRequiredService<RocketChatAdapter>());
        services.AddSingleton(sp => new ReplySenderRegistration(new ChatAdapterReplySender(sp.GetRequiredService<RocketChatAdapter>())));
        services.AddSingleton<IStatusSource>(sp => new ChatAdapterStatus(sp.GetRequiredService<RocketChatAdapter>()));
        return services;
    }
}
