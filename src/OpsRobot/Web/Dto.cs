using OpsRobot.Core.Rooms;
using OpsRobot.Core.Users;

namespace OpsRobot.Web;

/// <summary>The shapes the web API answers with. Documented in docs/api.md.</summary>
internal sealed record UserDto(long Id, string Name, string DisplayName, bool IsAdmin)
{
    public static UserDto From(UserRecord u) => new(u.Id, u.Name, u.DisplayName, u.IsAdmin);
}

internal sealed record RoomDto(long Id, string Name, string Topic, string Kind, bool Joined, int MemberCount)
{
    public static RoomDto From(RoomSummary s) =>
        new(s.Room.Id, s.Room.Name, s.Room.Topic, s.Room.Kind == RoomKind.Direct ? "direct" : "room", s.Joined, s.MemberCount);
}

internal sealed record AuthorDto(string Kind, string Name);

internal sealed record MessageDto(long Id, string Room, AuthorDto Author, string Text, DateTimeOffset CreatedAt)
{
    public static MessageDto From(StoredMessage m) =>
        new(m.Id, m.RoomName, new AuthorDto(m.AuthorKind == AuthorKind.Robot ? "robot" : "user", m.AuthorName), m.Text, m.CreatedAt);
}

internal sealed record MessagesDto(IReadOnlyList<MessageDto> Messages);

internal sealed record ErrorDto(string Error);

internal sealed record SignInRequest(string? UserName, string? Password);

internal sealed record CreateRoomRequest(string? Name, string? Topic);

internal sealed record PostMessageRequest(string? Text);

internal sealed record PostedDto(long Id);

internal sealed record CreateUserRequest(string? Name, string? Password, bool IsAdmin, string? DisplayName, List<string>? Roles = null);
