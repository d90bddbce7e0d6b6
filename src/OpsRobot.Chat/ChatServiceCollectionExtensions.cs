using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpsRobot.Chat.BuiltIn;
using OpsRobot.Chat.Shell;

namespace OpsRobot.Chat;

/// <summary>Registration of the chat adapters.</summary>
public static class ChatServiceCollectionExtensions
{
    /// <summary>Adds OpsRobot's built-in chat (the service behind the web chat) and the shell chat.</summary>
    public static IServiceCollection AddOpsRobotBuiltInChat(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<RoomFeed>();
        services.TryAddSingleton<BuiltInChat>();
        services.TryAddSingleton<ShellChat>();
        services.TryAddSingleton<BuiltInChatReplySender>();
        services.AddSingleton(sp => new ReplySenderRegistration(sp.GetRequiredService<BuiltInChatReplySender>()));
        services.TryAddSingleton<Core.Chat.IChatReplySender, CompositeReplySender>();
        return services;
    }
}
